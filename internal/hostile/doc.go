// Package hostile holds the process-level tests of Bulwark under hostile input (issue 24): each
// test builds the binary, runs it on a generated input and reads its peak resident memory. They run
// small by default; go test ./internal/hostile -hostile runs them at full size (minutes).
package hostile
