package report

import (
	"slices"
	"testing"

	"github.com/ctdsr/ctdsr/batch"
)

func TestWriteRejectsReadBack(t *testing.T) {
	path := join(t.TempDir(), RejectsFile)
	rejects := []batch.Reject{
		{SourceFile: "a.csv", SourceRow: 7, RequestID: "R-7", Column: "email", Reason: "not a valid email address"},
		{SourceFile: "a.csv", SourceRow: 9, Reason: "needs an email or a user id"},
		{SourceFile: "b.xlsx", Reason: "file is empty"},
	}
	var rows []RejectRow
	for _, r := range rejects {
		rows = append(rows, RejectRowOf(r))
	}
	if err := WriteRejects(path, rows); err != nil {
		t.Fatal(err)
	}

	f := openParquet(t, path)
	if f.NumRows() != 3 {
		t.Errorf("NumRows = %d, want 3", f.NumRows())
	}
	wantCols := []string{
		"source_file: BYTE_ARRAY STRING", "source_row: INT64 INT(64,true)", "request_id: BYTE_ARRAY STRING optional",
		"column: BYTE_ARRAY STRING optional", "reason: BYTE_ARRAY STRING",
	}
	if got := columnTypes(f); !slices.Equal(got, wantCols) {
		t.Errorf("columns = %q\nwant %q", got, wantCols)
	}
	if got := readRows[RejectRow](t, path); !slices.Equal(got, rows) {
		t.Errorf("read back %+v\nwant %+v", got, rows)
	}
	// Empty ids and columns are nulls, not empty strings.
	nulls := 0
	for _, rg := range f.RowGroups() {
		chunk := rg.ColumnChunks()[2] // request_id
		nulls += int(chunk.NumValues())
		pages := chunk.Pages()
		for {
			p, err := pages.ReadPage()
			if err != nil {
				break
			}
			nulls -= int(p.NumValues() - p.NumNulls())
		}
		pages.Close()
	}
	if nulls != 2 {
		t.Errorf("request_id has %d nulls, want 2", nulls)
	}
}

func TestWriteRejectsEmpty(t *testing.T) {
	path := join(t.TempDir(), RejectsFile)
	if err := WriteRejects(path, nil); err != nil {
		t.Fatal(err)
	}
	f := openParquet(t, path)
	if f.NumRows() != 0 || len(f.Root().Columns()) != 5 {
		t.Errorf("NumRows, columns = %d, %d; want an empty file with 5 columns", f.NumRows(), len(f.Root().Columns()))
	}
}
