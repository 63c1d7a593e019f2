package snapshot

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/limits"
)

// A gzip bomb, a file and standard input over the document limit are each an error naming the
// input and the limit, before (or instead of) holding them in memory.
func TestSnapshotLimits(t *testing.T) {
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for i := 0; i < 200; i++ {
		zw.Write(zeros)
	}
	zw.Close()
	dir := t.TempDir()
	gz := filepath.Join(dir, "estate.json.gz")
	os.WriteFile(gz, bomb.Bytes(), 0o644)
	_, err := Load(context.Background(), []string{gz}, Options{})
	if err == nil || !strings.Contains(err.Error(), "estate.json.gz: decompresses to more than 200 times its compressed size") {
		t.Errorf("gzip bomb: %v", err)
	}
	big := filepath.Join(dir, "big.json")
	os.WriteFile(big, []byte(`[`+strings.Repeat(`{"id":"/subscriptions/x","type":"t"},`, 1000)+`{}]`), 0o644)
	_, err = Load(context.Background(), []string{big}, Options{Limits: limits.Limits{MaxSnapshotBytes: 10_000}})
	if err == nil || !strings.Contains(err.Error(), "big.json: over 10000 bytes (limits.maxSnapshotBytes") {
		t.Errorf("file: %v", err)
	}
	_, err = Load(context.Background(), []string{dir}, Options{Limits: limits.Limits{MaxSnapshotBytes: 10_000}})
	if err == nil || !strings.Contains(err.Error(), "over 10000 bytes") {
		t.Errorf("folder: %v", err)
	}
	_, err = Load(context.Background(), []string{"-"}, Options{Stdin: strings.NewReader(strings.Repeat(" ", 20_000)), Limits: limits.Limits{MaxSnapshotBytes: 10_000}})
	if err == nil || !strings.Contains(err.Error(), "standard input: over 10000 bytes") {
		t.Errorf("stdin: %v", err)
	}
}

// An estate with more objects than limits.maxObjects is an error naming the file that crossed it.
func TestMaxObjects(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < 30; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"id":"/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv` + strings.Repeat("x", i+1) + `","type":"Microsoft.KeyVault/vaults"}`)
	}
	b.WriteString("]")
	p := filepath.Join(dir, "kv.json")
	os.WriteFile(p, []byte(b.String()), 0o644)
	if _, err := Load(context.Background(), []string{p}, Options{Limits: limits.Limits{MaxObjects: 30}}); err != nil {
		t.Errorf("30 objects, limit 30: %v", err)
	}
	_, err := Load(context.Background(), []string{p}, Options{Limits: limits.Limits{MaxObjects: 29}})
	if err == nil || !strings.Contains(err.Error(), "kv.json: the estate has more than 29 objects (limits.maxObjects") {
		t.Errorf("limit 29: %v", err)
	}
}
