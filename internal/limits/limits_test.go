package limits

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"
)

func TestOrAndSize(t *testing.T) {
	l := Limits{MaxLineBytes: 10}.Or()
	if l.MaxLineBytes != 10 || l.MaxDocumentBytes != Default.MaxDocumentBytes || l.MaxActors != Default.MaxActors || l.MaxHeld != Default.MaxHeld {
		t.Errorf("%+v", l)
	}
	for n, want := range map[int64]string{812: "812 bytes", 16 << 20: "16 MiB", 3 << 19: "1.5 MiB", 1 << 30: "1 GiB", 3 << 29: "1.5 GiB"} {
		if Size(n) != want {
			t.Errorf("Size(%d) = %q, want %q", n, Size(n), want)
		}
	}
}

// The meter passes what stays within the limits, and stops a stream past either of them.
func TestMetered(t *testing.T) {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(bytes.Repeat([]byte("abc"), 1000))
	zw.Close()
	read := func(l Limits) error {
		c := &Counting{R: bytes.NewReader(z.Bytes())}
		zr, err := gzip.NewReader(c)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(io.Discard, &Metered{Name: "x.gz", R: zr, Compressed: c, Limits: l})
		return err
	}
	if err := read(Limits{}); err != nil {
		t.Errorf("within the limits: %v", err)
	}
	if err := read(Limits{MaxDecompressedBytes: 100}); err == nil || !strings.HasPrefix(err.Error(), "x.gz: decompresses to more than 100 bytes") {
		t.Errorf("over the size: %v", err)
	}
}

func TestReadAtMost(t *testing.T) {
	for _, n := range []int{0, 1, 1 << 20, 1<<20 + 1, 3 << 20} {
		data := bytes.Repeat([]byte("x"), n)
		got, over, err := ReadAtMost(bytes.NewReader(data), 2<<20)
		if wantOver := n > 2<<20; err != nil || over != wantOver || (!over && !bytes.Equal(got, data)) {
			t.Errorf("%d bytes: %d read, over %v, %v", n, len(got), over, err)
		}
	}
}
