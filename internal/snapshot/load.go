package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/fileinfo"
	"github.com/bulwarkhq/bulwark/internal/limits"
)

// Result is a merged estate and everything the user should know about how it was read.
type Result struct {
	Snapshot  *arm.Snapshot
	Files     []FileSummary
	Skipped   []Skip     // elements not loaded, with reasons (Info ones lose nothing)
	Conflicts []Conflict // same ID with different content in two places
}

// FileSummary says what one file contributed.
type FileSummary struct {
	Name    string `json:"file"`
	Shape   Shape  `json:"shape"`
	Objects int    `json:"objects"`
	Skipped int    `json:"skipped"`
}

// Conflict is an object ID found with different content in two places; Kept is the version used.
type Conflict struct {
	ID      string     `json:"id"`
	Kept    arm.Source `json:"kept"`
	Dropped arm.Source `json:"dropped"`
}

// Warnings returns the skips that lost something (not the Info notes).
func (r *Result) Warnings() []Skip {
	var out []Skip
	for _, s := range r.Skipped {
		if !s.Info {
			out = append(out, s)
		}
	}
	return out
}

// Options configure Load.
type Options struct {
	Stdin io.Reader        // read for the path "-"
	Now   func() time.Time // the time given to stdin input; time.Now when nil
	// Limits: a file (or standard input, or a gzip file decompressed) over MaxSnapshotBytes is an
	// error naming it and the limit; a gzip file is also held to MaxCompressionRatio.
	Limits limits.Limits
}

// tooBig is the error of an input over the document limit.
func tooBig(name string, max int64) error {
	return &limits.Error{Msg: fmt.Sprintf("read %s: over %s (limits.maxSnapshotBytes in bulwark.yaml): split the estate into several files, or raise the limit", name, limits.Size(max))}
}

// jsonExts are the file names taken from folders; named files are read whatever their name.
var jsonExts = []string{".json", ".jsonl", ".json.gz", ".jsonl.gz"}

// Load reads files, folders (recursively, *.json, *.jsonl and their .gz forms) and "-" (stdin) and
// merges them. Every unreadable or invalid file is reported in the returned error, which joins one
// error per file; the result still holds everything that was valid.
func Load(ctx context.Context, paths []string, opts Options) (*Result, error) {
	if len(paths) == 0 {
		return nil, errors.New("no snapshot input: give files, folders or - for standard input")
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	var files []File
	var errs []error
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if p == "-" {
			if opts.Stdin == nil {
				errs = append(errs, errors.New("-: no standard input"))
				continue
			}
			max := opts.Limits.Or().MaxSnapshotBytes
			data, over, err := limits.ReadAtMost(opts.Stdin, max)
			if err != nil {
				errs = append(errs, fmt.Errorf("read standard input: %w", err))
				continue
			}
			if over {
				errs = append(errs, tooBig("standard input", max))
				continue
			}
			files = append(files, File{Name: "-", Data: data, ModTime: now(), limits: opts.Limits})
			continue
		}
		fsFiles, err := readPath(p, opts.Limits)
		if err != nil {
			errs = append(errs, err)
		}
		files = append(files, fsFiles...)
	}
	res, err := Merge(ctx, files)
	return res, errors.Join(append(errs, err)...)
}

func readPath(p string, l limits.Limits) ([]File, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if !info.IsDir() {
		// A device or a pipe (/dev/zero, a FIFO) would be read forever: only regular files, and
		// "-" for standard input.
		if !info.Mode().IsRegular() {
			return nil, fmt.Errorf("read %s: %s, not a regular file: give a file or a folder, or - with the data on standard input", p, fileinfo.Kind(info.Mode()))
		}
		if max := l.Or().MaxSnapshotBytes; info.Size() > max {
			return nil, tooBig(p, max)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		return []File{{Name: p, Data: data, ModTime: info.ModTime(), limits: l}}, nil
	}
	return readFS(os.DirFS(p), ".", func(rel string) string { return filepath.Join(p, filepath.FromSlash(rel)) }, l)
}

// LoadFS reads every JSON file below root in fsys (the embedded demo estate, for one).
func LoadFS(ctx context.Context, fsys fs.FS, root, displayPrefix string) (*Result, error) {
	files, err := readFS(fsys, root, func(rel string) string { return displayPrefix + rel }, limits.Limits{})
	if err != nil {
		return nil, err
	}
	return Merge(ctx, files)
}

func readFS(fsys fs.FS, root string, name func(string) string, l limits.Limits) ([]File, error) {
	var files []File
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("read %s: %w", name(p), err)
		}
		base := path.Base(p)
		if p != root && strings.HasPrefix(base, ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !hasJSONExt(base) {
			return nil
		}
		if !d.Type().IsRegular() { // a link is read when it leads to a regular file
			if info, err := fs.Stat(fsys, p); err != nil || !info.Mode().IsRegular() {
				return fmt.Errorf("read %s: %s, not a regular file", name(p), fileinfo.Kind(d.Type()))
			}
		}
		var mod time.Time
		if info, err := fs.Stat(fsys, p); err == nil {
			mod = info.ModTime()
			if max := l.Or().MaxSnapshotBytes; info.Size() > max {
				return tooBig(name(p), max)
			}
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("read %s: %w", name(p), err)
		}
		files = append(files, File{Name: name(p), Data: data, ModTime: mod, limits: l})
		return nil
	})
	return files, err
}

func hasJSONExt(name string) bool {
	n := strings.ToLower(name)
	for _, e := range jsonExts {
		if strings.HasSuffix(n, e) {
			return true
		}
	}
	return false
}

// Merge decodes files and merges their objects. Objects are deduplicated by ID, ignoring case;
// when two files hold different content for one ID, the newer file wins (a snapshot's collectedAt,
// else the file's modification time; a tie goes to the later file) and the conflict is recorded.
// Within one file the first occurrence wins. Invalid files are reported in the error and left out.
func Merge(ctx context.Context, files []File) (*Result, error) {
	res := &Result{Snapshot: &arm.Snapshot{Schema: arm.SchemaV1, Resources: []*arm.Object{}, Errors: []arm.CollectError{}}}
	type entry struct {
		obj  *arm.Object
		file int
		time time.Time
	}
	byID := map[string]int{} // ID key → position in res.Snapshot.Resources
	entries := []entry{}
	var errs []error
	seenErr := map[arm.CollectError]bool{}
	for fi, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		d, err := Decode(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		t := f.ModTime
		if !d.CollectedAt.IsZero() {
			t = d.CollectedAt
			if d.CollectedAt.After(res.Snapshot.CollectedAt) {
				res.Snapshot.CollectedAt = d.CollectedAt
			}
		}
		if d.TenantID != "" && res.Snapshot.TenantID == "" {
			res.Snapshot.TenantID = d.TenantID
		}
		for _, e := range d.Errors {
			if !seenErr[e] {
				seenErr[e] = true
				res.Snapshot.Errors = append(res.Snapshot.Errors, e)
			}
		}
		skipped := 0
		for _, s := range d.Skipped {
			if !s.Info {
				skipped++
			}
		}
		res.Skipped = append(res.Skipped, d.Skipped...)
		res.Files = append(res.Files, FileSummary{Name: f.Name, Shape: d.Shape, Objects: len(d.Objects), Skipped: skipped})
		max := f.limits.Or().MaxObjects
		for _, o := range d.Objects {
			k := o.ID.Key()
			pos, dup := byID[k]
			if !dup {
				if len(entries) == max {
					return nil, &limits.Error{Msg: fmt.Sprintf("%s: the estate has more than %d objects (limits.maxObjects in bulwark.yaml): assess it a subscription or management group at a time, or raise the limit", f.Name, max)}
				}
				byID[k] = len(entries)
				entries = append(entries, entry{obj: o, file: fi, time: t})
				continue
			}
			prev := entries[pos]
			if arm.SameContent(prev.obj, o) {
				continue
			}
			newer := prev.file != fi && !t.Before(prev.time)
			if newer {
				res.Conflicts = append(res.Conflicts, Conflict{ID: o.ID.String(), Kept: o.Source, Dropped: prev.obj.Source})
				entries[pos] = entry{obj: o, file: fi, time: t}
			} else {
				res.Conflicts = append(res.Conflicts, Conflict{ID: o.ID.String(), Kept: prev.obj.Source, Dropped: o.Source})
			}
		}
	}
	for _, e := range entries {
		res.Snapshot.Resources = append(res.Snapshot.Resources, e.obj)
	}
	if res.Snapshot.CollectedAt.IsZero() {
		for _, f := range files {
			if f.ModTime.After(res.Snapshot.CollectedAt) {
				res.Snapshot.CollectedAt = f.ModTime.UTC().Truncate(time.Second)
			}
		}
	}
	sort.SliceStable(res.Conflicts, func(i, j int) bool { return res.Conflicts[i].ID < res.Conflicts[j].ID })
	return res, errors.Join(errs...)
}
