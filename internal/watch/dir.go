package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"time"
)

// Dir is a folder the storage export writes to: a subscription's Activity Log in hourly blobs,
// .../resourceId=/SUBSCRIPTIONS/ID/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json, JSON lines appended
// through the hour (a storage account mounted, or synced down with azcopy).
type Dir struct {
	Path string
	Poll time.Duration // how often the folder is scanned (default 5 s)
	Tick time.Duration // how often to report and checkpoint (default 10 s)
	// MaxRead bounds what one scan reads of one subscription (default 16 MiB): a large archive
	// is read a slice at a time, the subscriptions kept in step on event time.
	MaxRead int64
}

// hourPath finds the hour of an export blob in its path.
var hourPath = regexp.MustCompile(`(?i)^(.*?)/?y=(\d{4})/m=(\d{2})/d=(\d{2})/h=(\d{2})/m=(\d{2})/[^/]+\.json$`)

// A position in a folder's stream (one subscription's blobs, in time order) is the hour of the
// blob (hours since 2000) in the high bits and the byte offset in it in the low 40.
const offsetBits = 40

type blob struct {
	path string
	hour int64
	size int64
}

// scan lists the export's blobs per stream (the path up to y=), each stream's in time order.
func scan(root string) (map[string][]blob, error) {
	out := map[string][]blob{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			return nil // a folder removed while scanning
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		m := hourPath.FindStringSubmatch(filepath.ToSlash(rel))
		if m == nil {
			return nil
		}
		y, _ := strconv.Atoi(m[2])
		mo, _ := strconv.Atoi(m[3])
		dd, _ := strconv.Atoi(m[4])
		h, _ := strconv.Atoi(m[5])
		t := time.Date(y, time.Month(mo), dd, h, 0, 0, 0, time.UTC)
		info, err := d.Info()
		if err != nil {
			return nil
		}
		stream := m[1]
		if stream == "" {
			stream = "."
		}
		out[stream] = append(out[stream], blob{path: p, hour: int64(t.Sub(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) / time.Hour), size: info.Size()})
		return nil
	})
	for _, bs := range out {
		sort.Slice(bs, func(i, j int) bool {
			return bs[i].hour < bs[j].hour || bs[i].hour == bs[j].hour && bs[i].path < bs[j].path
		})
	}
	return out, err
}

// RunDir follows a storage-export folder until ctx is cancelled, then checkpoints and returns nil:
// new hourly blobs and lines appended to them are read as they come (a line is read once it ends
// with a newline), one stream per subscription, merged on event time into one engine ("dir"),
// checkpointed like a Kafka partition's (positions are blob hour and byte offset).
func RunDir(ctx context.Context, o Options, d Dir) error {
	o.defaults()
	if d.Poll <= 0 {
		d.Poll = 5 * time.Second
	}
	if d.Tick <= 0 {
		d.Tick = 10 * time.Second
	}
	if d.MaxRead <= 0 {
		d.MaxRead = 16 << 20
	}
	if _, err := os.Stat(d.Path); err != nil {
		return fmt.Errorf("--dir: %w", err)
	}
	e, err := Open(ctx, o, "dir")
	if err != nil {
		return err
	}
	defer e.Close()
	o.Metrics.SetReady(true)
	o.Log.Info("following", "dir", d.Path)
	readTo := map[string]int64{} // per stream: the position after the last line handed to the engine
	next := time.Now().Add(d.Tick)
	for {
		streams, err := scan(d.Path)
		if err != nil {
			return fmt.Errorf("--dir: %w", err)
		}
		more := false // some stream has more to read now: scan again at once
		for name, blobs := range streams {
			from, ok := readTo[name]
			if !ok {
				if from, ok = e.Position(name); !ok || from < 0 {
					from = 0
				}
			}
			to, behind, err := e.follow(ctx, name, blobs, from, d.MaxRead)
			if err != nil {
				return err
			}
			readTo[name] = to
			e.Behind(name, behind)
			more = more || behind
		}
		before := e.counts.Events
		e.Drain()
		o.Metrics.processed(d.Path, e.counts.Events-before)
		if !time.Now().Before(next) {
			if err := e.Tick(ctx); err != nil {
				return err
			}
			o.Metrics.held(e.name, e.d.Held())
			next = time.Now().Add(d.Tick)
		}
		wait := d.Poll
		if more {
			wait = 0
		}
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if err := e.Tick(sctx); err != nil {
				return err
			}
			o.Log.Info("stopped", "dir", d.Path)
			return nil
		case <-time.After(wait):
		}
	}
}

// follow hands a stream's complete lines from position from on to the engine, reading at most
// max bytes; it returns the position after the last line and whether more is left to read.
func (e *Engine) follow(ctx context.Context, name string, blobs []blob, from, max int64) (int64, bool, error) {
	read := int64(0)
	for _, b := range blobs {
		hour, off := from>>offsetBits, from&(1<<offsetBits-1)
		if b.hour < hour {
			continue
		}
		if b.hour > hour {
			off = 0
		}
		if b.size <= off {
			continue
		}
		if read >= max {
			return from, true, nil
		}
		n := min(b.size-off, max-read)
		data, err := readAt(b.path, off, n)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed meanwhile (lifecycle policy)
			}
			return from, false, err
		}
		end := bytes.LastIndexByte(data, '\n') + 1 // complete lines only
		if notLast := b.path != blobs[len(blobs)-1].path; notLast && off+n == b.size && end < len(data) && json.Valid(data[end:]) {
			end = len(data) // a later hour has begun: a final record without its newline is whole
		}
		if end == 0 && int64(len(data)) == n && n == max-read && b.size-off > n {
			return from, false, fmt.Errorf("%s: a line at byte %d is longer than %d bytes", b.path, off, max)
		}
		base := b.hour << offsetBits
		chunk := data[:end]
		if end > 0 && chunk[end-1] != '\n' { // the final record without a newline: AddLines wants one
			chunk = append(chunk[:end:end], '\n')
		}
		if err := e.AddLines(ctx, name, base, off, chunk); err != nil {
			return from, false, err
		}
		pos := off + int64(end)
		read += int64(end)
		from = base | pos
		if off+int64(end) < b.size && int64(len(data)) == n && n < b.size-off {
			return from, true, nil // the rest of this blob next scan
		}
		if off+int64(end) < b.size {
			return from, false, nil // a line still being written: the later blobs wait for it
		}
	}
	return from, false, nil
}

func readAt(path string, off, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	k, err := f.ReadAt(buf, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:k], nil
}
