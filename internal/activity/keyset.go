package activity

// keySet is a set of non-zero 64-bit event keys: open addressing with linear probing in one flat
// array (a Go map of 200,000 keys costs a cache miss or two more per lookup). It holds at most
// half its slots, so a probe ends fast at an empty one.
type keySet struct {
	slots []uint64
	n     int
}

func newKeySet(max int) *keySet {
	size := 1
	for size < 2*max {
		size <<= 1
	}
	return &keySet{slots: make([]uint64, size)}
}

// first returns the slot a lookup of k starts at, to load it ahead of has.
func (s *keySet) first(k uint64) uint64 {
	return s.slots[(k*0x9E3779B97F4A7C15)>>7&uint64(len(s.slots)-1)]
}

// has reports whether k (non-zero) is in the set.
func (s *keySet) has(k uint64) bool {
	mask := uint64(len(s.slots) - 1)
	for i := (k * 0x9E3779B97F4A7C15) >> 7 & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case k:
			return true
		case 0:
			return false
		}
	}
}

// add puts k (non-zero, not in the set) in it; the caller keeps n below half the slots.
func (s *keySet) add(k uint64) {
	mask := uint64(len(s.slots) - 1)
	i := (k * 0x9E3779B97F4A7C15) >> 7 & mask
	for s.slots[i] != 0 {
		i = (i + 1) & mask
	}
	s.slots[i] = k
	s.n++
}

func (s *keySet) reset() {
	clear(s.slots)
	s.n = 0
}
