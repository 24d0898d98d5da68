package manifest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctdsr/ctdsr/batch/manifest/manifesttest"
)

// TestReadUnreadable covers every way a whole file is refused: one line
// naming the file (and the row when there is one), the right sentinel.
func TestReadUnreadable(t *testing.T) {
	dir := t.TempDir()
	gen := func(name string, data []byte) string { return writeFile(t, filepath.Join(dir, name), data) }
	workbook := filepath.Join(dir, "book.xlsx")
	mustWriteXLSX(t, workbook, manifesttest.Workbook{Sheets: []manifesttest.Sheet{
		{Name: "Requests", Rows: [][]any{{"id", "type", "email"}, {"R-1", "access", "a@x.io"}}},
	}})
	book := mustReadFile(t, workbook)
	pq := filepath.Join(dir, "good.parquet")
	mustWriteParquet(t, pq, []manifesttest.Column{{Name: "id", Node: manifesttest.String},
		{Name: "type", Node: manifesttest.String}, {Name: "email", Node: manifesttest.String}},
		[][]any{{"R-1", "access", "a@x.io"}}, 0)
	pqBytes := mustReadFile(t, pq)
	bigRow := []byte("id,type,email\nR-1,access,\"" + strings.Repeat("x", 2<<20) + "\n")

	tests := []struct {
		path string
		err  error
		row  int
		msg  string // a fragment the message must contain
	}{
		{fixture("unreadable/empty.csv"), ErrEmpty, 0, "file is empty"},
		{fixture("unreadable/whitespace.csv"), ErrEmpty, 0, "file is empty"},
		{fixture("unreadable/header-only.csv"), ErrNoRows, 0, "no data rows"},
		{fixture("unreadable/blank-rows-only.csv"), ErrNoRows, 0, "no data rows"},
		{fixture("unreadable/missing-column.csv"), ErrMissingColumn, 1,
			`missing required column request_type (found: "Ticket", "E-mail", "Notes")`},
		{fixture("unreadable/no-contact-column.csv"), ErrMissingColumn, 1,
			`missing required column email or user_id (found: "id", "type", "notes")`},
		{fixture("unreadable/duplicate-column.csv"), ErrDuplicateCol, 1, `"Email" and "E-mail" both mean email`},
		{fixture("unreadable/open-quote.csv"), ErrMalformed, 3, `extraneous or missing " in quoted-field`},
		{fixture("unreadable/bare-quote.csv"), ErrMalformed, 2, `bare " in non-quoted-field`},
		{fixture("unreadable/requests.json"), ErrUnsupported, 0, `extension ".json"`},
		{fixture("unreadable/legacy.xls"), ErrUnsupported, 0, "save it as .xlsx"},
		{fixture("unreadable/missing.csv"), fs.ErrNotExist, 0, "no such file"},
		{fixtures, ErrUnsupported, 0, "extension"},
		{mkdir(t, filepath.Join(dir, "folder.csv")), ErrUnsupported, 0, "is a directory"},
		{gen("binary.csv", []byte("id,type,email\n\x00\x01\x02\x03")), ErrUnsupported, 0, "binary"},
		{gen("latin1.csv", []byte("id,type,e\xe9mail\nR-1,access,a@x.io\n")), ErrUnsupported, 0, "not UTF-8"},
		{gen("utf16.csv", []byte("\xff\xfei\x00d\x00\n\x00")), ErrUnsupported, 0, "UTF-16"},
		{gen("workbook.csv", book), ErrUnsupported, 0, "name it .xlsx"},
		{gen("table.csv", pqBytes), ErrUnsupported, 0, "name it .parquet"},
		{gen("text.xlsx", []byte("id,type,email\n")), ErrUnsupported, 0, "not an .xlsx workbook"},
		{gen("encrypted.xlsx", append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 504)...)),
			ErrUnsupported, 0, "password-protected"},
		{gen("zip.xlsx", []byte("PK\x03\x04 not really a zip")), ErrMalformed, 0, "malformed file"},
		{gen("text.parquet", []byte("id,type,email\n")), ErrUnsupported, 0, "not a Parquet file"},
		{gen("truncated.parquet", pqBytes[:len(pqBytes)-20]), ErrMalformed, 0, "malformed file"},
		{gen("magic-only.parquet", []byte("PAR1PAR1")), ErrMalformed, 0, "malformed file"},
		{gen("long-row.csv", bigRow), ErrMalformed, 2, "a row is longer than 1048576 bytes"},
		{gen("doc.docx", book), ErrUnsupported, 0, `extension ".docx"`},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			calls := 0
			_, err := Read(t.Context(), tt.path, Options{}, func(Row) error { calls++; return nil })
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v (%T); want a *FileError", err, err)
			}
			msg := err.Error()
			t.Log(msg)
			if !errors.Is(err, tt.err) || fe.Row != tt.row || fe.Path != tt.path {
				t.Errorf("err = %q, row %d; want %v at row %d of %s", msg, fe.Row, tt.err, tt.row, tt.path)
			}
			if !strings.HasPrefix(msg, tt.path+": ") || !strings.Contains(msg, tt.msg) || strings.ContainsAny(msg, "\r\n") {
				t.Errorf("message %q; want one line starting with the path and containing %q", msg, tt.msg)
			}
		})
	}
}

func mkdir(tb testing.TB, path string) string {
	tb.Helper()
	if err := os.Mkdir(path, 0o700); err != nil {
		tb.Fatal(err)
	}
	return path
}

func mustReadFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func mustWriteXLSX(tb testing.TB, path string, wb manifesttest.Workbook) string {
	tb.Helper()
	if err := manifesttest.WriteXLSX(path, wb); err != nil {
		tb.Fatal(err)
	}
	return path
}

func mustWriteParquet(tb testing.TB, path string, cols []manifesttest.Column, rows [][]any, perGroup int64) string {
	tb.Helper()
	if err := manifesttest.WriteParquet(path, cols, rows, perGroup); err != nil {
		tb.Fatal(err)
	}
	return path
}
