package activity

import (
	"bytes"
	"compress/gzip"
	"context"
	"github.com/bulwarkhq/bulwark/internal/limits"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/hostfs"
)

const okLine = `{"time":"2026-11-25T10:00:00.0000000Z","resourceId":"/SUBSCRIPTIONS/11111111-1111-4111-8111-111111111111/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV","operationName":"MICROSOFT.KEYVAULT/VAULTS/DELETE","category":"Administrative","resultType":"Success","correlationId":"c1","identity":{"claims":{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"a@x"}},"properties":{}}`

// A line over the line limit is skipped and reported with its line number, in a file (mapped) and
// on standard input (streamed, without being kept); the lines after it are read.
func TestLineLimit(t *testing.T) {
	long := strings.Replace(okLine, `"properties":{}`, `"properties":{"big":"`+strings.Repeat("x", 5000)+`"}`, 1)
	data := okLine + "\n" + long + "\n" + strings.Replace(okLine, `"c1"`, `"c2"`, 1) + "\n" + long
	path := filepath.Join(t.TempDir(), "a.json")
	os.WriteFile(path, []byte(data), 0o644)
	for _, src := range []string{path, "-"} {
		for _, workers := range []int{1, 2} {
			r := &Reader{Files: hostfs.FS{}, Stdin: strings.NewReader(data), Workers: workers, Limits: limits.Limits{MaxLineBytes: 4096}}
			n := 0
			if err := r.Read(context.Background(), []string{src}, func(*Event) error { n++; return nil }); err != nil {
				t.Fatal(err)
			}
			if n != 2 || r.Malformed != 2 || len(r.Problems) != 2 || !strings.Contains(r.Problems[0].String(), ":2: a line of ") ||
				!strings.Contains(r.Problems[0].Msg, "over the 4096 bytes line limit (limits.maxLineBytes") {
				t.Errorf("%s, %d workers: %d events, problems %v", src, workers, n, r.Problems)
			}
		}
	}
}

// A gzip bomb stops at the compression-ratio limit, and any gzip at the decompressed-size limit,
// each with an error naming the input and the limit.
func TestDecompressionIsMetered(t *testing.T) {
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	block := bytes.Repeat([]byte(okLine+"\n"), 4000)
	for n := 0; n < 100<<20; n += len(block) { // 100 MiB of one line repeated: about 100 KB of gzip
		zw.Write(block)
	}
	zw.Close()
	r := &Reader{Files: hostfs.FS{}, Stdin: bytes.NewReader(bomb.Bytes())}
	err := r.Read(context.Background(), []string{"-"}, func(*Event) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "-: decompresses to more than 200 times its compressed size") {
		t.Errorf("bomb: %v", err)
	}
	var lines bytes.Buffer
	zw = gzip.NewWriter(&lines)
	for i := 0; i < 100; i++ {
		zw.Write([]byte(okLine + "\n"))
	}
	zw.Close()
	r = &Reader{Files: hostfs.FS{}, Stdin: bytes.NewReader(lines.Bytes()), Limits: limits.Limits{MaxDecompressedBytes: 10_000}}
	err = r.Read(context.Background(), []string{"-"}, func(*Event) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "decompresses to more than 10000 bytes (limits.maxDecompressedBytes") {
		t.Errorf("size: %v", err)
	}
}

// A whole JSON document over its limit, and a CSV record over the line limit, stop their input
// with an error saying what to do.
func TestDocumentAndCSVLimits(t *testing.T) {
	doc := "[" + strings.Repeat(okLine+",", 50) + okLine + "]"
	r := &Reader{Files: hostfs.FS{}, Stdin: strings.NewReader(doc), Limits: limits.Limits{MaxDocumentBytes: 5000}}
	err := r.Read(context.Background(), []string{"-"}, func(*Event) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "a JSON document over 5000 bytes (limits.maxDocumentBytes") || !strings.Contains(err.Error(), "jq -c") {
		t.Errorf("document: %v", err)
	}
	csv := "TimeGenerated [UTC],OperationNameValue,Properties\n2026-11-25T10:00:00Z,MICROSOFT.KEYVAULT/VAULTS/DELETE,\"" + strings.Repeat("x\n", 200_000) + "\"\n"
	r = &Reader{Files: hostfs.FS{}, Stdin: strings.NewReader(csv), Limits: limits.Limits{MaxLineBytes: 100_000}}
	err = r.Read(context.Background(), []string{"-"}, func(*Event) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "-, after line 1: a CSV record over the 100000 bytes record limit") {
		t.Errorf("csv: %v", err)
	}
}
