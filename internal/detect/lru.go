package detect

import "container/list"

// lru is a map bounded to max entries; putting beyond it evicts the least recently used entry.
type lru[K comparable, V any] struct {
	max     int
	ll      *list.List
	m       map[K]*list.Element
	evicted int
}

type lruEntry[K comparable, V any] struct {
	k K
	v V
}

func newLRU[K comparable, V any](max int) *lru[K, V] {
	return &lru[K, V]{max: max, ll: list.New(), m: map[K]*list.Element{}}
}

func (c *lru[K, V]) get(k K) (V, bool) {
	if el, ok := c.m[k]; ok {
		c.ll.MoveToFront(el)
		return el.Value.(*lruEntry[K, V]).v, true
	}
	var zero V
	return zero, false
}

// getBytes is get for a string key held in bytes, without allocating a string for the lookup.
func getBytes[V any](c *lru[string, V], k []byte) (V, bool) {
	if el, ok := c.m[string(k)]; ok {
		c.ll.MoveToFront(el)
		return el.Value.(*lruEntry[string, V]).v, true
	}
	var zero V
	return zero, false
}

func (c *lru[K, V]) put(k K, v V) {
	if el, ok := c.m[k]; ok {
		el.Value.(*lruEntry[K, V]).v = v
		c.ll.MoveToFront(el)
		return
	}
	c.m[k] = c.ll.PushFront(&lruEntry[K, V]{k, v})
	for c.ll.Len() > c.max {
		el := c.ll.Back()
		ent := el.Value.(*lruEntry[K, V])
		c.ll.Remove(el)
		delete(c.m, ent.k)
		c.evicted++
	}
}

func (c *lru[K, V]) del(k K) {
	if el, ok := c.m[k]; ok {
		c.ll.Remove(el)
		delete(c.m, k)
	}
}

func (c *lru[K, V]) len() int { return c.ll.Len() }
