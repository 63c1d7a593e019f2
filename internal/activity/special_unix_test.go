//go:build unix

package activity

import (
	"github.com/bulwarkhq/bulwark/internal/hostfs"

	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A device or a named pipe, given or met in a folder, is refused at once with what it is.
func TestSpecialFilesRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "PT1H.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no named pipes here:", err)
	}
	for path, want := range map[string]string{"/dev/zero": "a device, not a regular file", fifo: "a named pipe, not a regular file", dir: "a named pipe, not a regular file"} {
		err := (&Reader{Files: hostfs.FS{}}).Read(context.Background(), []string{path}, func(*Event) error { return nil })
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", path, err)
		}
	}
}
