package textsafe

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestWriterAndCell(t *testing.T) {
	for _, c := range []struct{ in, writer, cell string }{
		{"plain text\twith a tab\n", "plain text\twith a tab\n", `plain text\u0009with a tab\u000a`},
		{"alice\r\x1b[2Kmallory@contoso", `alice\u000d\u001b[2Kmallory@contoso`, `alice\u000d\u001b[2Kmallory@contoso`},
		{"\x1b]8;;https://evil.example\x07click\x1b]8;;\x07", `\u001b]8;;https://evil.example\u0007click\u001b]8;;\u0007`, `\u001b]8;;https://evil.example\u0007click\u001b]8;;\u0007`},
		{"\x1b]52;c;ZWNobyBwd25lZA==\x07", `\u001b]52;c;ZWNobyBwd25lZA==\u0007`, `\u001b]52;c;ZWNobyBwd25lZA==\u0007`},
		{"\x1b[1mbold\x1b[0m and \x1b[33myellow\x1b[0m", "\x1b[1mbold\x1b[0m and \x1b[33myellow\x1b[0m", "\x1b[1mbold\x1b[0m and \x1b[33myellow\x1b[0m"},
		{"kv\u202egnp.exe", `kv\u202egnp.exe`, `kv\u202egnp.exe`},
		{"8-bit CSI \u009b2J, back\bspace, del\x7f", `8-bit CSI \u009b2J, back\u0008space, del\u007f`, `8-bit CSI \u009b2J, back\u0008space, del\u007f`},
		{"Zürich – ✓ 東京", "Zürich – ✓ 東京", "Zürich – ✓ 東京"},
		{"\x1b", `\u001b`, `\u001b`},
	} {
		var out bytes.Buffer
		n, err := Writer(&out).Write([]byte(c.in))
		if err != nil || n != len(c.in) || out.String() != c.writer {
			t.Errorf("Writer(%q) = %q (%d, %v), want %q", c.in, out.String(), n, err, c.writer)
		}
		if got := Cell(c.in); got != c.cell {
			t.Errorf("Cell(%q) = %q, want %q", c.in, got, c.cell)
		}
	}
}

// JSON through the Writer decodes to the same values: its escapes are JSON's.
func TestWriterKeepsJSON(t *testing.T) {
	in := map[string]string{"caller": "a\u202eb\u0085c\x7fd", "note": "x\x1b[2Jy"}
	raw, _ := json.Marshal(in)
	var out bytes.Buffer
	Writer(&out).Write(raw)
	var back map[string]string
	if err := json.Unmarshal(out.Bytes(), &back); err != nil || back["caller"] != in["caller"] || back["note"] != in["note"] {
		t.Errorf("%s → %v %v", out.Bytes(), back, err)
	}
	if bytes.ContainsRune(out.Bytes(), 0x202e) || bytes.ContainsRune(out.Bytes(), 0x7f) {
		t.Errorf("raw controls left: %q", out.Bytes())
	}
}
