//go:build unix

package load

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A named pipe given as bulwark.yaml, apps.yaml, IaC or a rule file is refused at once, not read
// (which would block until something writes to it).
func TestSpecialFilesRefused(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	done := make(chan []string)
	go func() {
		var msgs []string
		_, err := Config(fifo)
		msgs = append(msgs, err.Error())
		_, err = Apps(fifo)
		msgs = append(msgs, err.Error())
		_, err = IaC([]string{fifo})
		msgs = append(msgs, err.Error())
		_, errs := Rules(fifo)
		msgs = append(msgs, errs.Error())
		done <- msgs
	}()
	select {
	case msgs := <-done:
		for _, m := range msgs {
			if !strings.Contains(m, "a named pipe, not a regular file") {
				t.Errorf("%s", m)
			}
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a named pipe was read (blocked)")
	}
}
