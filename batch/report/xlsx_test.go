package report

import (
	"archive/zip"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// Cell kinds a test expects to read back.
const (
	kText   = "text"   // inline string, no formula, number format "@"
	kNumber = "number" // a number
	kBool   = "bool"   // TRUE or FALSE
	kDate   = "date"   // a date serial with the date-time format
	kEmpty  = "empty"  // no value
)

func ptr[T any](v T) *T { return &v }

// fixtureWorkbook writes one workbook with every kind of cell and returns
// its path.
func fixtureWorkbook(t *testing.T) string {
	t.Helper()
	w, p := mustCreateWorkbook(t, 0)
	plus2 := time.FixedZone("+02", 2*3600)
	for _, r := range []RequestRow{
		{RequestID: "R-1", RequestType: "access", Status: "completed", Late: true,
			SubmittedAt: ptr(time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)),
			DueAt:       ptr(time.Date(2024, 3, 1, 10, 30, 0, 0, plus2)), // 08:30 UTC
			DaysOpen:    29, ProfilesFound: 2, EventsExported: 1_234_567},
		{RequestID: `=HYPERLINK("http://evil.example","x")`, RequestType: "deletion", Status: "failed",
			CompletedAt: ptr(time.Date(2024, 3, 2, 23, 59, 59, 0, time.UTC)), Detail: "-2+3"},
	} {
		if err := w.AddRequest(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.AddDeletion(DeletionRow{RequestID: "R-2", Status: "verified", ObjectIDs: []string{"a", "b"},
		DeleteRequestedAt: ptr(time.Date(2024, 3, 3, 12, 0, 0, 0, time.UTC)),
		VerifiedAt:        ptr(time.Date(2024, 3, 4, 12, 0, 0, 0, time.UTC)),
		Checks:            3, Detail: "@cmd"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []RejectRow{
		{SourceFile: "m.csv", SourceRow: 4, RequestID: "R-9", Column: "email", Reason: "+bad"},
		{SourceFile: "other.parquet", Reason: "not a Parquet file"},
	} {
		if err := w.AddReject(r); err != nil {
			t.Fatal(err)
		}
	}
	err := w.SetSummary([]SummaryItem{
		{"Run", "run-1"}, {"Started (UTC)", time.Date(2024, 3, 5, 6, 7, 8, 0, plus2)},
		{"Requests", 2}, {"Share late", 0.5}, {"Dry run", false}, {"Note", "=1+1"}, {"Nothing", nil},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWorkbookCellTypes(t *testing.T) {
	f := mustOpenXLSX(t, fixtureWorkbook(t))
	if got, want := f.GetSheetList(), []string{"Summary", "Requests", "Deletions", "Rejects"}; !slices.Equal(got, want) {
		t.Fatalf("sheets = %q, want %q", got, want)
	}
	tests := []struct {
		sheet, cell, kind, want string
	}{
		{"Requests", "A2", kText, "R-1"},
		{"Requests", "B2", kText, "access"},
		{"Requests", "D2", kBool, "TRUE"},
		{"Requests", "E2", kDate, "2024-02-01T00:00:00Z"},
		{"Requests", "F2", kDate, "2024-03-01T08:30:00Z"},
		{"Requests", "G2", kEmpty, ""},
		{"Requests", "H2", kNumber, "29"},
		{"Requests", "I2", kNumber, "2"},
		{"Requests", "J2", kNumber, "1234567"},
		{"Requests", "K2", kEmpty, ""},
		{"Requests", "A3", kText, `=HYPERLINK("http://evil.example","x")`},
		{"Requests", "D3", kBool, "FALSE"},
		{"Requests", "G3", kDate, "2024-03-02T23:59:59Z"},
		{"Requests", "H3", kNumber, "0"},
		{"Requests", "K3", kText, "-2+3"},
		{"Deletions", "A2", kText, "R-2"},
		{"Deletions", "C2", kText, "a, b"},
		{"Deletions", "D2", kDate, "2024-03-03T12:00:00Z"},
		{"Deletions", "F2", kNumber, "3"},
		{"Deletions", "G2", kEmpty, ""},
		{"Deletions", "H2", kText, "@cmd"},
		{"Rejects", "B2", kNumber, "4"},
		{"Rejects", "E2", kText, "+bad"},
		{"Rejects", "B3", kEmpty, ""}, // a whole-file reject has no row
		{"Summary", "A2", kText, "Run"},
		{"Summary", "B2", kText, "run-1"},
		{"Summary", "B3", kDate, "2024-03-05T04:07:08Z"},
		{"Summary", "B4", kNumber, "2"},
		{"Summary", "B5", kNumber, "0.5"},
		{"Summary", "B6", kBool, "FALSE"},
		{"Summary", "B7", kText, "=1+1"},
		{"Summary", "B8", kEmpty, ""},
		{"Summary", "A9", kText, "Requests rows"},
		{"Summary", "B9", kNumber, "2"},
		{"Summary", "B10", kNumber, "1"},
		{"Summary", "B11", kNumber, "2"},
		{"Summary", "A12", kText, "Times"},
	}
	for _, tt := range tests {
		t.Run(tt.sheet+"!"+tt.cell, func(t *testing.T) {
			checkCell(t, f, tt.sheet, tt.cell, tt.kind, tt.want)
		})
	}
}

// checkCell reads one cell back and compares its type, value and format.
func checkCell(t *testing.T, f *excelize.File, sheet, cell, kind, want string) {
	t.Helper()
	typ, err := f.GetCellType(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if formula, _ := f.GetCellFormula(sheet, cell); formula != "" {
		t.Errorf("formula %q; no cell may hold one", formula)
	}
	style := cellStyle(t, f, sheet, cell)
	switch kind {
	case kText:
		if typ != excelize.CellTypeInlineString || raw != want || style.NumFmt != 49 {
			t.Errorf("type %v, value %q, number format %d; want an inline string %q formatted as text (49)", typ, raw, style.NumFmt, want)
		}
	case kNumber:
		got, err := strconv.ParseFloat(raw, 64)
		wantN, _ := strconv.ParseFloat(want, 64)
		if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber || err != nil || got != wantN {
			t.Errorf("type %v, value %q; want the number %s", typ, raw, want)
		}
	case kBool:
		if shown, _ := f.GetCellValue(sheet, cell); typ != excelize.CellTypeBool || shown != want {
			t.Errorf("type %v, value %q; want the boolean %s", typ, shown, want)
		}
	case kDate:
		serial, err := strconv.ParseFloat(raw, 64)
		if err != nil || typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Fatalf("type %v, value %q; want a date serial number", typ, raw)
		}
		got, err := excelize.ExcelDateToTime(serial, false)
		wantT, _ := time.Parse(time.RFC3339, want)
		if err != nil || got.Sub(wantT).Abs() > time.Millisecond {
			t.Errorf("date %v (serial %s), want %v", got, raw, wantT)
		}
		if style.CustomNumFmt == nil || *style.CustomNumFmt != dateFormat {
			t.Errorf("number format %v, want %q", style.CustomNumFmt, dateFormat)
		}
	case kEmpty:
		if raw != "" {
			t.Errorf("value %q, want an empty cell", raw)
		}
	}
}

func cellStyle(t *testing.T, f *excelize.File, sheet, cell string) *excelize.Style {
	t.Helper()
	id, err := f.GetCellStyle(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestWorkbookLayout(t *testing.T) {
	p := fixtureWorkbook(t)
	f := mustOpenXLSX(t, p)
	tests := []struct {
		sheet  string
		cols   []column
		filter string // autofilter range, "" for none
		frozen bool
	}{
		{"Summary", summaryColumns, "", false},
		{"Requests", requestColumns, "A1:K3", true},
		{"Deletions", deletionColumns, "A1:H2", true},
		{"Rejects", rejectColumns, "A1:E3", true},
	}
	filters := map[string]string{} // sheet → _xlnm._FilterDatabase
	for _, dn := range f.GetDefinedName() {
		if dn.Name == "_xlnm._FilterDatabase" {
			filters[dn.Scope] = dn.RefersTo
		}
	}
	for _, tt := range tests {
		t.Run(tt.sheet, func(t *testing.T) {
			for i, c := range tt.cols {
				name, _ := excelize.ColumnNumberToName(i + 1)
				if got, _ := f.GetCellValue(tt.sheet, name+"1"); got != c.header {
					t.Errorf("header %s1 = %q, want %q", name, got, c.header)
				}
				if s := cellStyle(t, f, tt.sheet, name+"1"); s.Font == nil || !s.Font.Bold {
					t.Errorf("header %s1 is not bold", name)
				}
				if got, _ := f.GetColWidth(tt.sheet, name); got != c.width {
					t.Errorf("column %s width = %v, want %v", name, got, c.width)
				}
			}
			panes, err := f.GetPanes(tt.sheet)
			if err != nil {
				t.Fatal(err)
			}
			if frozen := panes.Freeze && panes.YSplit == 1 && panes.XSplit == 0 && panes.TopLeftCell == "A2"; frozen != tt.frozen {
				t.Errorf("panes = %+v; want the header row frozen: %v", panes, tt.frozen)
			}
			ws := readWorksheet(t, p, tt.sheet)
			var got string
			if ws.AutoFilter != nil {
				got = strings.ReplaceAll(ws.AutoFilter.Ref, "$", "") // excelize writes $A$1:$K$3
			}
			if got != tt.filter {
				t.Errorf("autofilter = %q, want %q", got, tt.filter)
			}
			if wantDN := ""; tt.filter != "" {
				a, b, _ := strings.Cut(tt.filter, ":")
				wantDN = fmt.Sprintf("'%s'!$%s$%s:$%s$%s", tt.sheet, a[:1], a[1:], b[:1], b[1:])
				if filters[tt.sheet] != wantDN {
					t.Errorf("_FilterDatabase = %q, want %q", filters[tt.sheet], wantDN)
				}
			}
		})
	}
	if got := f.GetActiveSheetIndex(); got != 0 {
		t.Errorf("active sheet %d, want 0 (Summary)", got)
	}
}

// formulaLike are values a spreadsheet would run as formulas were they
// written carelessly.
var formulaLike = []string{
	"=1+2", `=HYPERLINK("http://evil.example","click")`, "+1", "-1", "@SUM(A1:A2)",
	"\t=1+2", "\r=1+2", "=cmd|' /C calc'!A0", "-", "=",
}

func TestWorkbookNeverWritesFormulas(t *testing.T) {
	w, p := mustCreateWorkbook(t, 0)
	for _, v := range formulaLike {
		if err := w.AddRequest(RequestRow{RequestID: v, RequestType: v, Status: v, Detail: v}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.AddDeletion(DeletionRow{RequestID: "=d", Status: "+s", ObjectIDs: []string{"=o", "@p"}, Detail: "-x"}); err != nil {
		t.Fatal(err)
	}
	if err := w.AddReject(RejectRow{SourceFile: "=f", SourceRow: 1, RequestID: "@r", Column: "+c", Reason: "-r"}); err != nil {
		t.Fatal(err)
	}
	items := make([]SummaryItem, len(formulaLike))
	for i, v := range formulaLike {
		items[i] = SummaryItem{v, v}
	}
	if err := w.SetSummary(items); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	f := mustOpenXLSX(t, p)
	for i, v := range formulaLike {
		for _, cell := range []string{"A", "B", "C", "K"} {
			checkCell(t, f, "Requests", fmt.Sprintf("%s%d", cell, i+2), kText, v)
		}
		checkCell(t, f, "Summary", fmt.Sprintf("A%d", i+2), kText, v)
		checkCell(t, f, "Summary", fmt.Sprintf("B%d", i+2), kText, v)
	}
	checkCell(t, f, "Deletions", "C2", kText, "=o, @p")
	checkCell(t, f, "Rejects", "A2", kText, "=f")
	// And in the XML itself: no cell anywhere has a formula or the
	// formula-string type.
	for _, sheet := range f.GetSheetList() {
		for _, c := range readWorksheet(t, p, sheet).Cells {
			if c.F != nil || c.T == "str" {
				t.Errorf("%s!%s: t=%q, formula %v; want no formula", sheet, c.R, c.T, c.F)
			}
		}
	}
}

func TestWorkbookOverflow(t *testing.T) {
	const limit = 3
	tests := []struct {
		requests, deletions int
		sheets              []string
		continues           string // Summary's "Requests continues on", "" for none
	}{
		{0, 0, []string{"Summary", "Requests", "Deletions", "Rejects"}, ""},
		{3, 0, []string{"Summary", "Requests", "Deletions", "Rejects"}, ""},
		{4, 1, []string{"Summary", "Requests", "Requests (2)", "Deletions", "Rejects"}, "Requests (2)"},
		{7, 4, []string{"Summary", "Requests", "Requests (2)", "Requests (3)", "Deletions", "Deletions (2)", "Rejects"}, "Requests (2), Requests (3)"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d requests", tt.requests), func(t *testing.T) {
			w, p := mustCreateWorkbook(t, limit)
			for i := range tt.requests {
				if err := w.AddRequest(RequestRow{RequestID: fmt.Sprintf("R-%d", i)}); err != nil {
					t.Fatal(err)
				}
			}
			for i := range tt.deletions {
				if err := w.AddDeletion(DeletionRow{RequestID: fmt.Sprintf("D-%d", i)}); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			f := mustOpenXLSX(t, p)
			if got := f.GetSheetList(); !slices.Equal(got, tt.sheets) {
				t.Fatalf("sheets = %q, want %q", got, tt.sheets)
			}
			// Every row, once, in order, each sheet with its header,
			// frozen, filtered over its own rows.
			var ids []string
			for _, sheet := range tt.sheets[1:] {
				rows, err := f.GetRows(sheet)
				if err != nil {
					t.Fatal(err)
				}
				if len(rows) == 0 || rows[0][0] != "Request ID" && rows[0][0] != "File" || len(rows) > limit+1 {
					t.Errorf("%s: %d rows starting %q; want a header and at most %d rows", sheet, len(rows), rows[0], limit)
				}
				for _, r := range rows[1:] {
					ids = append(ids, r[0])
				}
				last, _ := excelize.CoordinatesToCellName(len(rows[0]), len(rows))
				if ws := readWorksheet(t, p, sheet); ws.AutoFilter == nil || strings.ReplaceAll(ws.AutoFilter.Ref, "$", "") != "A1:"+last {
					t.Errorf("%s: autofilter %+v, want A1:%s", sheet, ws.AutoFilter, last)
				}
				if panes, _ := f.GetPanes(sheet); !panes.Freeze || panes.YSplit != 1 {
					t.Errorf("%s: header not frozen: %+v", sheet, panes)
				}
			}
			var want []string
			for i := range tt.requests {
				want = append(want, fmt.Sprintf("R-%d", i))
			}
			for i := range tt.deletions {
				want = append(want, fmt.Sprintf("D-%d", i))
			}
			if !slices.Equal(ids, want) {
				t.Errorf("rows = %q, want %q", ids, want)
			}
			summary := summaryMap(t, f)
			if got := summary["Requests rows"]; got != strconv.Itoa(tt.requests) {
				t.Errorf("Summary: Requests rows = %q, want %d", got, tt.requests)
			}
			got, _, _ := strings.Cut(summary["Requests continues on"], " (a sheet")
			if got != tt.continues {
				t.Errorf("Summary: Requests continues on %q, want %q", summary["Requests continues on"], tt.continues)
			}
		})
	}
}

// summaryMap reads the Summary sheet as label → shown value.
func summaryMap(t *testing.T, f *excelize.File) map[string]string {
	t.Helper()
	rows, err := f.GetRows("Summary")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, r := range rows[1:] {
		if len(r) == 2 {
			m[r[0]] = r[1]
		}
	}
	return m
}

func TestWorkbookOrder(t *testing.T) {
	w, p := mustCreateWorkbook(t, 0)
	if err := w.AddReject(RejectRow{SourceFile: "m.csv", Reason: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := w.AddRequest(RequestRow{RequestID: "R-1"}); !errors.Is(err, ErrWorkbookOrder) {
		t.Errorf("AddRequest after AddReject: %v, want ErrWorkbookOrder", err)
	}
	if err := w.AddDeletion(DeletionRow{RequestID: "R-1"}); !errors.Is(err, ErrWorkbookOrder) {
		t.Errorf("AddDeletion after AddReject: %v, want ErrWorkbookOrder", err)
	}
	// An order error leaves the workbook usable.
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f := mustOpenXLSX(t, p)
	if got, want := f.GetSheetList(), []string{"Summary", "Requests", "Deletions", "Rejects"}; !slices.Equal(got, want) {
		t.Errorf("sheets = %q, want %q", got, want)
	}
	if rows, _ := f.GetRows("Requests"); len(rows) != 1 {
		t.Errorf("Requests has %d rows, want the header alone", len(rows))
	}
}

func TestSetSummaryRefusesOtherTypes(t *testing.T) {
	w, _ := mustCreateWorkbook(t, 0)
	for _, v := range []any{struct{}{}, []string{"a"}, time.Second, &struct{}{}} {
		if err := w.SetSummary([]SummaryItem{{"x", v}}); err == nil {
			t.Errorf("SetSummary(%T) = nil, want an error", v)
		}
	}
}

func TestWorkbookPublish(t *testing.T) {
	tests := []struct {
		name    string
		finish  func(w *Workbook) error
		wantErr bool
		want    []string // directory after
	}{
		{"close", (*Workbook).Close, false, []string{WorkbookFile}},
		{"abort", (*Workbook).Abort, false, []string{"previous"}},
		{"close after abort", func(w *Workbook) error { w.Abort(); return w.Close() }, true, []string{"previous"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, p := mustCreateWorkbook(t, 0)
			dir := strings.TrimSuffix(p, WorkbookFile)
			if tt.want[0] == "previous" { // a file from an earlier run stays as it was
				if err := os.WriteFile(p, []byte("previous"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.AddRequest(RequestRow{RequestID: "R-1"}); err != nil {
				t.Fatal(err)
			}
			err := tt.finish(w)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tt.wantErr)
			}
			if got := dirEntries(t, dir); !slices.Equal(got, []string{WorkbookFile}) {
				t.Fatalf("directory holds %q, want only %s", got, WorkbookFile)
			}
			b, _ := os.ReadFile(p)
			if tt.want[0] == "previous" {
				if string(b) != "previous" {
					t.Errorf("the previous file changed")
				}
				return
			}
			if m := fileMode(t, p); m != 0o600 {
				t.Errorf("mode %v, want 0600", m)
			}
			mustOpenXLSX(t, p)
		})
	}
}

func TestWorkbookPublishFailure(t *testing.T) {
	w, p := mustCreateWorkbook(t, 0)
	dir := strings.TrimSuffix(p, WorkbookFile)
	if err := os.Mkdir(p, 0o700); err != nil { // rename onto a directory fails
		t.Fatal(err)
	}
	if err := w.Close(); err == nil {
		t.Fatal("Close over a directory succeeded")
	}
	if got := dirEntries(t, dir); !slices.Equal(got, []string{WorkbookFile}) {
		t.Errorf("directory holds %q, want only the directory in the way", got)
	}
}

func TestWorkbookZip64Headers(t *testing.T) {
	old := zip64Threshold
	zip64Threshold = 1000 // pretend entries over 1,000 bytes are over 4 GiB
	t.Cleanup(func() { zip64Threshold = old })
	w, p := mustCreateWorkbook(t, 0)
	for i := range 100 {
		if err := w.AddRequest(RequestRow{RequestID: fmt.Sprintf("R-%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(p)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var patched int
	for _, zf := range zr.File {
		off, err := zf.DataOffset()
		if err != nil {
			t.Fatal(err)
		}
		lfh := off - 30 - int64(len(zf.Name)) // excelize's entries carry no extra field
		if string(raw[lfh:lfh+4]) != "PK\x03\x04" {
			t.Fatalf("%s: no local header at %d", zf.Name, lfh)
		}
		version := binary.LittleEndian.Uint16(raw[lfh+4:])
		if want := uint16(20); zf.UncompressedSize64 > uint64(zip64Threshold) {
			want = 45
			patched++
			if version != want {
				t.Errorf("%s (%d bytes): version needed %d, want %d", zf.Name, zf.UncompressedSize64, version, want)
			}
		} else if version != want {
			t.Errorf("%s (%d bytes): version needed %d, want %d", zf.Name, zf.UncompressedSize64, version, want)
		}
	}
	if patched == 0 {
		t.Fatal("no entry was over the threshold: the test proves nothing")
	}
	mustOpenXLSX(t, p)
}

func TestExcelText(t *testing.T) {
	long := strings.Repeat("é", maxCellChars+10)     // 2 bytes, 1 UTF-16 unit each
	astral := strings.Repeat("😀", maxCellChars/2+10) // 4 bytes, 2 UTF-16 units each
	tests := []struct {
		name string
		in   string
		cut  bool
	}{
		{"short", "=1+2", false},
		{"at the limit", strings.Repeat("x", maxCellChars), false},
		{"many bytes, few characters", strings.Repeat("é", maxCellChars), false},
		{"one over", strings.Repeat("x", maxCellChars+1), true},
		{"long", long, true},
		{"astral", astral, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := excelText(tt.in)
			if !tt.cut {
				if got != tt.in {
					t.Errorf("changed a value that fits")
				}
				return
			}
			if n := utf16Len(got); n > maxCellChars {
				t.Errorf("%d UTF-16 units, want at most %d", n, maxCellChars)
			}
			if !strings.Contains(got, "[cut: ") || !strings.HasPrefix(tt.in, strings.Split(got, " … [cut")[0]) {
				t.Errorf("cut value %q… does not keep a prefix and say it was cut", got[:20])
			}
		})
	}
}

func TestFormulaGuard(t *testing.T) {
	tests := []struct {
		in, csv string
	}{
		{"", ""}, {"plain", "plain"}, {"a=b", "a=b"}, {" =1", " =1"}, {"{\"a\":1}", "{\"a\":1}"},
		{"=1+2", "'=1+2"}, {"+1", "'+1"}, {"-1", "'-1"}, {"@x", "'@x"}, {"\t=1", "'\t=1"}, {"\r=1", "'\r=1"},
		{"2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		if got := csvText(tt.in); got != tt.csv {
			t.Errorf("csvText(%q) = %q, want %q", tt.in, got, tt.csv)
		}
	}
}
