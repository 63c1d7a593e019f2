package watch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/atomicfile"
	"github.com/bulwarkhq/bulwark/internal/detect"
)

// StateVersion is the version of the checkpoint format (its first line's version; the detector's
// state after it has its own, detect.StateVersion).
const StateVersion = 1

// fileName is an engine's name as a file name ("insights-activity-logs/3" → "insights-activity-logs-3").
func fileName(name string) string { return strings.ReplaceAll(name, "/", "-") }

func checkpointPath(dir, name string) string { return filepath.Join(dir, fileName(name)+".checkpoint") }

// readCheckpoint reads an engine's checkpoint: no file is no checkpoint (nil, nil, nil); a file
// that cannot be read whole is an error naming it, never a silent fresh start.
func readCheckpoint(dir, name string, opts detect.Options) (*engineState, *detect.Detector, error) {
	path := checkpointPath(dir, name)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 {
		return nil, nil, fmt.Errorf("%s: not a bulwark watch checkpoint (no header line); move it away to start afresh", path)
	}
	var es engineState
	if err := json.Unmarshal(data[:nl], &es); err != nil {
		return nil, nil, fmt.Errorf("%s: header: %v; move it away to start afresh", path, err)
	}
	if es.Version != StateVersion {
		return nil, nil, fmt.Errorf("%s: checkpoint format version %d, this build reads %d", path, es.Version, StateVersion)
	}
	d, err := detect.Restore(opts, bytes.NewReader(data[nl+1:]))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w (the rules or options differ from those it was written with? move it away to start afresh)", path, err)
	}
	return &es, d, nil
}

// checkpoint writes the engine's checkpoint whole or not at all (a temporary file, synced, renamed
// over the last, the folder synced), then clears the delivered log it supersedes.
func (e *Engine) checkpoint() error {
	keep := e.outbox[:0]
	for _, r := range e.outbox {
		if !e.done[r.ID] {
			keep = append(keep, r)
		}
	}
	clear(e.outbox[len(keep):])
	e.outbox = keep
	now := time.Now().UTC()
	if e.opts.State == "" {
		clear(e.done)
		e.last = now
		return nil
	}
	es := engineState{Version: StateVersion, Name: e.name, Streams: map[string][2]int64{}, Emitted: e.emitted, Revs: e.revs,
		Outbox: e.outbox, Reader: e.rd.Dedup(), Counts: e.counts, Written: now, Resume: e.Resume()}
	for n, s := range e.streams {
		es.Streams[n] = [2]int64{s.pos, int64(s.skip)}
	}
	head, err := json.Marshal(es)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	path := checkpointPath(e.opts.State, e.name)
	if err := atomicfile.Write(path, func(w io.Writer) error {
		if _, err := w.Write(append(head, '\n')); err != nil {
			return err
		}
		return e.d.Checkpoint(w)
	}); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	e.last = now
	size := int64(len(head))
	if st, err := os.Stat(path); err == nil {
		size = st.Size()
	}
	e.opts.Metrics.checkpointed(e.name, size, now)
	clear(e.done)
	return e.log.reset()
}

// deliveredLog is the IDs of the records delivered since the last checkpoint, one a line, synced
// after each delivery round: what a restart must not deliver again.
type deliveredLog struct {
	f   *os.File
	ids []string // read at open
}

func openDeliveredLog(dir, name string) (*deliveredLog, error) {
	path := filepath.Join(dir, fileName(name)+".delivered")
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	l := &deliveredLog{}
	lines := strings.Split(string(data), "\n")
	for _, id := range lines[:len(lines)-1] { // the last is empty, or a line cut short by a crash
		if id != "" {
			l.ids = append(l.ids, id)
		}
	}
	if l.f, err = os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
		return nil, err
	}
	if len(data) > 0 && data[len(data)-1] != '\n' { // end the cut line, so the next ID stands alone
		if _, err := l.f.Write([]byte{'\n'}); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (l *deliveredLog) add(id string) error {
	if l == nil {
		return nil
	}
	_, err := l.f.Write([]byte(id + "\n")) // unbuffered: once written, a crash of the process keeps it
	return err
}

func (l *deliveredLog) sync() error {
	if l == nil {
		return nil
	}
	return l.f.Sync()
}

func (l *deliveredLog) reset() error {
	if l == nil {
		return nil
	}
	if err := l.f.Truncate(0); err != nil {
		return err
	}
	return l.f.Sync()
}

func (l *deliveredLog) close() error {
	if l == nil {
		return nil
	}
	return l.f.Close()
}

func (l *deliveredLog) loaded() []string {
	if l == nil {
		return nil
	}
	return l.ids
}
