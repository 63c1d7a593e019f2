package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestWorkbookCells: what a cell can hold comes back as written, as excelize reads it — XML's
// special characters, spaces at the ends, tabs and newlines, numbers — and what XML cannot carry
// (control characters) or Excel cannot hold (over 32,767 characters) is replaced or cut, not
// written into a file Excel would refuse.
func TestWorkbookCells(t *testing.T) {
	long := strings.Repeat("é", maxCellChars+10)
	var out bytes.Buffer
	b := newWorkbook(&out)
	b.startSheet("Sheet & <one>", sheetOptions{widths: []column{{1, 12.5}}, freezeHeader: true, filterCols: 3, filterRows: 2})
	b.addRow("a<b>&\"c'", "  padded ", 42)
	b.addRow("tab\tnew\nline", "bell\x07null\x00", 2.5)
	b.addRow(nil, "", long)
	b.startSheet("Two", sheetOptions{})
	b.addRow("x")
	if err := b.close(); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); len(got) != 2 || got[0] != "Sheet & <one>" || got[1] != "Two" {
		t.Fatalf("sheets %q", got)
	}
	rows, err := f.GetRows("Sheet & <one>")
	if err != nil || len(rows) != 3 {
		t.Fatalf("%v: %q", err, rows)
	}
	want := [][]string{{"a<b>&\"c'", "  padded ", "42"}, {"tab\tnew\nline", "bell\uFFFDnull\uFFFD", "2.5"}, {"", "", strings.Repeat("é", maxCellChars)}}
	for i := range want {
		for j := range want[i] {
			if j >= len(rows[i]) || rows[i][j] != want[i][j] {
				t.Errorf("row %d cell %d: %q, want %q", i+1, j+1, rows[i][min(j, len(rows[i])-1)], want[i][j])
			}
		}
	}
	if typ, _ := f.GetCellType("Sheet & <one>", "C1"); typ == excelize.CellTypeInlineString || typ == excelize.CellTypeSharedString {
		t.Errorf("a number was written as text (%v)", typ)
	}
	if p, _ := f.GetPanes("Sheet & <one>"); !p.Freeze || p.YSplit != 1 {
		t.Errorf("panes %+v", p)
	}
	if w, _ := f.GetColWidth("Sheet & <one>", "A"); w != 12.5 {
		t.Errorf("width %v", w)
	}
	if names := f.GetDefinedName(); len(names) != 1 || !strings.HasSuffix(names[0].RefersTo, "!$A$1:$C$3") {
		t.Errorf("filter %+v", names)
	}
	if rows, _ := f.GetRows("Two"); len(rows) != 1 || rows[0][0] != "x" {
		t.Errorf("second sheet %q", rows)
	}
	for n, want := range map[int]string{1: "A", 16: "P", 26: "Z", 27: "AA", 702: "ZZ", 703: "AAA"} {
		if got := columnName(n); got != want {
			t.Errorf("column %d: %s, want %s", n, got, want)
		}
	}
}
