package manifest

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
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
		{gen("huge-part.xlsx", declareSize(t, book, "xl/_rels/workbook.xml.rels", 0, 3841917567)), ErrMalformed, 0,
			"xl/_rels/workbook.xml.rels claims 3841917567 bytes unpacked"},
		{gen("huge-sheet.xlsx", declareSize(t, book, "xl/worksheets/sheet1.xml", 0, 3<<30)), ErrMalformed, 0,
			"xl/worksheets/sheet1.xml claims 3221225472 bytes unpacked"},
		{gen("packed-past-end.xlsx", rewritePart(t, book, "xl/worksheets/sheet1.xml", func(h *zip.FileHeader, raw []byte) ([]byte, []byte) {
			h.CompressedSize64, h.UncompressedSize64 = 3<<30, 3<<30
			return raw, nil
		})), ErrMalformed, 0, "xl/worksheets/sheet1.xml claims 3221225472 bytes packed, past the end of the file"},
		{gen("cut-sheet.xlsx", cutPart(t, book, "xl/worksheets/sheet1.xml", 200)), ErrMalformed, 0,
			"xl/worksheets/sheet1.xml: the part's data end before its declared size"},
		{gen("big-styles.xlsx", declareSize(t, book, "xl/styles.xml", 300<<10, 300<<20)), ErrMalformed, 0,
			"xl/styles.xml claims 314572800 bytes unpacked; with the parts before it, more than the 256 MiB"},
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

// TestDeclaredSizesAreNotAllocated: a file whose zip directory, Parquet page
// headers or Parquet footer declare gigabytes is refused without allocating
// them (which excelize and parquet-go do before reading a part, page or
// list), however often it is read. The files are workbooks with one size
// rewritten, and the seeds in testdata/fuzz: inputs the fuzz targets found,
// which took a fuzz worker more than the 10 s it may spend on one input once
// its heap had grown, footers declaring 5e6 and 2e9 schema elements (the
// latter a fatal out of memory), a page header claiming 1e9 values, and a
// worksheet whose packed data claim 3 GB past the end of a 7 KB workbook
// (e8a747e6e97ab387: excelize fell back to a 3 GB buffer, which took over
// 10 s to clear once the heap had grown, so the fuzz worker was stopped as
// hung).
func TestDeclaredSizesAreNotAllocated(t *testing.T) {
	dir := t.TempDir()
	book := mustReadFile(t, mustWriteXLSX(t, filepath.Join(dir, "book.xlsx"), requestsWorkbook(false)))
	files := map[string][]byte{
		"rels.xlsx":         declareSize(t, book, "xl/_rels/workbook.xml.rels", 0, 3<<30),
		"styles.xlsx":       declareSize(t, book, "xl/styles.xml", 0, 3<<30),
		"sheet.xlsx":        declareSize(t, book, "xl/worksheets/sheet1.xml", 0, 3<<30), // read into memory when unpacking it fails
		"strings.xlsx":      declareSize(t, book, "xl/sharedStrings.xml", 0, 3<<30),
		"styles-300MB.xlsx": declareSize(t, book, "xl/styles.xml", 300<<10, 300<<20), // deflate could, but not into memory
	}
	seeds, _ := filepath.Glob("testdata/fuzz/FuzzRead*/*")
	for _, seed := range seeds {
		lines := strings.Split(string(mustReadFile(t, seed)), "\n")
		data, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", seed, err)
		}
		ext := map[string]string{"FuzzReadParquet": ".parquet", "FuzzReadXLSX": ".xlsx", "FuzzReadCSV": ".csv"}[filepath.Base(filepath.Dir(seed))]
		files[filepath.Base(seed)+ext] = []byte(data)
	}
	for name, data := range files {
		path := writeFile(t, filepath.Join(dir, name), data)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var err error
		for range 3 {
			_, _, err = readAll(t, path, Options{})
		}
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
			t.Errorf("%s: reading it three times allocated %d MiB", name, n>>20)
		}
	}
}

// declareSize rewrites the zip of an .xlsx with part's uncompressed size in
// the zip directory set to size, and its compressed size to compressed unless
// that is 0; the data stay as they were, and a stored padding part makes the
// file as long as compressed.
func declareSize(tb testing.TB, book []byte, part string, compressed, size uint64) []byte {
	tb.Helper()
	return rewritePart(tb, book, part, func(h *zip.FileHeader, raw []byte) ([]byte, []byte) {
		h.UncompressedSize64 = size
		if compressed == 0 {
			return raw, nil
		}
		h.CompressedSize64 = compressed
		return raw, make([]byte, compressed)
	})
}

// cutPart rewrites the zip of an .xlsx with part's packed data cut to their
// first keep bytes; the sizes and checksum it declares stay as they were.
func cutPart(tb testing.TB, book []byte, part string, keep int) []byte {
	tb.Helper()
	return rewritePart(tb, book, part, func(h *zip.FileHeader, raw []byte) ([]byte, []byte) {
		h.CompressedSize64 = uint64(keep)
		return raw[:keep], nil
	})
}

// rewritePart copies the zip of an .xlsx part by part, packed data as they
// are, letting edit change part's header and packed data; padding, if edit
// returns any, is stored after the parts as xl/media/padding.bin.
func rewritePart(tb testing.TB, book []byte, part string, edit func(h *zip.FileHeader, raw []byte) (data, padding []byte)) []byte {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
	if err != nil {
		tb.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	var found bool
	var padding []byte
	for _, f := range zr.File {
		h := f.FileHeader
		rc, err := f.OpenRaw()
		if err != nil {
			tb.Fatal(err)
		}
		raw, err := io.ReadAll(rc)
		if err != nil {
			tb.Fatal(err)
		}
		if f.Name == part {
			found = true
			raw, padding = edit(&h, raw)
		}
		w, err := zw.CreateRaw(&h)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write(raw); err != nil {
			tb.Fatal(err)
		}
	}
	if padding != nil {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "xl/media/padding.bin", Method: zip.Store})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write(padding); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	if !found {
		tb.Fatalf("the workbook has no part %s", part)
	}
	return out.Bytes()
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
