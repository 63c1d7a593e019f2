package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestCommandScripts runs the command-line scripts in testdata/script: the README's examples and the bad
// inputs a first run meets, each pinned to its exit code and key output. A script is a txtar
// archive: its comment section holds one command per line, its files are written to a fresh
// working directory first.
//
//	bulwark ARGS [< FILE] [> FILE]   run bulwark (in-process) with the arguments, shell-quoted
//	code N                           the last run exited N
//	stdout RE / stderr RE            the last run's output matches the regular expression
//	! stdout RE / ! stderr RE        it does not
//	exists FILE                      a file the last run wrote
//
// Each script names the README line or issue case it covers.
func TestCommandScripts(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "script", "*.txtar"))
	if len(files) == 0 {
		t.Fatal("no scripts in testdata/script")
	}
	wd, _ := os.Getwd()
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			script, archive := parseTxtar(string(data))
			dir := t.TempDir()
			for name, content := range archive {
				p := filepath.Join(dir, name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chdir(dir); err != nil {
				t.Fatal(err)
			}
			defer os.Chdir(wd)
			var last result
			ran := false
			for n, line := range strings.Split(script, "\n") {
				line = strings.TrimSpace(line)
				if line == "" || strings.HasPrefix(line, "#") {
					continue
				}
				at := file + ":" + strconv.Itoa(n+1)
				args := shellSplit(line)
				neg := args[0] == "!"
				if neg {
					args = args[1:]
				}
				switch args[0] {
				case "bulwark":
					last, ran = runScriptLine(t, at, args[1:]), true
				case "code":
					if want, _ := strconv.Atoi(args[1]); !ran || last.code != want {
						t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", at, last.code, want, clip(last.stdout), clip(last.stderr))
					}
				case "stdout", "stderr":
					out := last.stdout
					if args[0] == "stderr" {
						out = last.stderr
					}
					re, err := regexp.Compile(strings.Join(args[1:], " "))
					if err != nil {
						t.Fatalf("%s: %v", at, err)
					}
					if re.MatchString(out) == neg {
						t.Errorf("%s: %s %s %q:\n%s", at, args[0], map[bool]string{true: "matches", false: "does not match"}[neg], re, clip(out))
					}
				case "exists":
					if _, err := os.Stat(args[1]); (err == nil) == neg {
						t.Errorf("%s: %s exists: %v", at, args[1], err == nil)
					}
				default:
					t.Fatalf("%s: unknown command %q", at, args[0])
				}
			}
		})
	}
}

func runScriptLine(t *testing.T, at string, args []string) result {
	t.Helper()
	var in []byte
	var outFile string
	var clean []string
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "<":
			var err error
			if in, err = os.ReadFile(args[i+1]); err != nil {
				t.Fatalf("%s: %v", at, err)
			}
			i++
		case ">":
			outFile = args[i+1]
			i++
		default:
			clean = append(clean, args[i])
		}
	}
	var out, errb bytes.Buffer
	code := Main(context.Background(), clean, bytes.NewReader(in), &out, &errb)
	if outFile != "" {
		if err := os.WriteFile(outFile, out.Bytes(), 0o644); err != nil {
			t.Fatalf("%s: %v", at, err)
		}
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// parseTxtar splits a txtar archive into its comment and its files ("-- name --" headers).
func parseTxtar(s string) (string, map[string]string) {
	files := map[string]string{}
	header := regexp.MustCompile(`(?m)^-- (.+) --$`)
	locs := header.FindAllStringSubmatchIndex(s, -1)
	if len(locs) == 0 {
		return s, files
	}
	comment := s[:locs[0][0]]
	for i, l := range locs {
		end := len(s)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		files[s[l[2]:l[3]]] = strings.TrimPrefix(s[l[1]:end], "\n")
	}
	return comment, files
}

// shellSplit splits a line on spaces, keeping '…' and "…" together (without the quotes).
func shellSplit(s string) []string {
	var out []string
	var cur strings.Builder
	quote := byte(0)
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ' || c == '\t':
			if in || cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in || cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func clip(s string) string {
	if len(s) > 1500 {
		return s[:1500] + "…"
	}
	return s
}
