package manifest

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch/manifest/manifesttest"
)

// fixtures is where the committed text manifests live.
const fixtures = "../../testdata/manifests"

func fixture(name string) string { return filepath.Join(fixtures, name) }

// readAll reads path and returns its Info and rows.
func readAll(tb testing.TB, path string, opts Options) (Info, []Row, error) {
	tb.Helper()
	var rows []Row
	info, err := Read(tb.Context(), path, opts, func(r Row) error {
		rows = append(rows, r)
		return nil
	})
	return info, rows, err
}

// mustRead reads path and fails the test on a file error.
func mustRead(tb testing.TB, path string, opts Options) (Info, []Row) {
	tb.Helper()
	info, rows, err := readAll(tb, path, opts)
	if err != nil {
		tb.Fatalf("Read(%s) = %v, want no error", path, err)
	}
	checkInvariants(tb, info, rows)
	return info, rows
}

// checkInvariants asserts what must hold for any successful read: every row
// is in exactly one place and the counts add up.
func checkInvariants(tb testing.TB, info Info, rows []Row) {
	tb.Helper()
	if got := info.Accepted + info.Merged + info.Rejected; info.Rows != got || len(rows) != got {
		tb.Fatalf("Rows = %d, Accepted+Merged+Rejected = %d, callbacks = %d; want all equal",
			info.Rows, got, len(rows))
	}
	prev := 0
	for _, r := range rows {
		if (r.Request == nil) == (r.Reject == nil) {
			tb.Fatalf("row %d: Request %v and Reject %v; want exactly one", r.Source.Row, r.Request, r.Reject)
		}
		if r.Source.Row <= prev || r.Source.Row < 2 {
			tb.Fatalf("row %d after row %d; want increasing rows after the header", r.Source.Row, prev)
		}
		prev = r.Source.Row
		if q := r.Request; q != nil {
			if q.ID == "" || !q.Type.Valid() || (q.Email == "" && q.UserID == "") {
				tb.Fatalf("row %d: invalid request accepted: %+v", r.Source.Row, q)
			}
			if q.Source != r.Source {
				tb.Fatalf("row %d: request source %v; want %v", r.Source.Row, q.Source, r.Source)
			}
		}
		if j := r.Reject; j != nil && (j.Reason == "" || j.SourceRow != r.Source.Row || strings.ContainsAny(j.Reason, "\r\n")) {
			tb.Fatalf("row %d: bad reject %+v", r.Source.Row, j)
		}
	}
}

// outcomes renders each row as one line keyed by row, so tables of
// expectations read like the file.
func outcomes(rows []Row) map[int]string {
	m := map[int]string{}
	for _, r := range rows {
		m[r.Source.Row] = outcome(r)
	}
	return m
}

func outcome(r Row) string {
	switch {
	case r.Reject != nil:
		return fmt.Sprintf("reject %s [%s]: %s", r.Reject.RequestID, r.Reject.Column, r.Reject.Reason)
	case r.Duplicate != nil:
		return fmt.Sprintf("merge %s into row %d", r.Request.ID, r.Duplicate.Row)
	}
	q := r.Request
	s := fmt.Sprintf("%s %s", q.ID, q.Type)
	if q.Email != "" {
		s += " email=" + q.Email
	}
	if q.UserID != "" {
		s += " user=" + q.UserID
	}
	if !q.SubmittedAt.IsZero() {
		s += " sub=" + q.SubmittedAt.Format(time.RFC3339)
	}
	if !q.DueAt.IsZero() {
		s += " due=" + q.DueAt.Format(time.RFC3339)
	}
	return s
}

// diffOutcomes reports rows whose outcome differs from want, one per line.
func diffOutcomes(got, want map[int]string) string {
	var keys []int
	for k := range got {
		keys = append(keys, k)
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		if got[k] != want[k] {
			fmt.Fprintf(&b, "row %d:\n\t got %q\n\twant %q\n", k, got[k], want[k])
		}
	}
	return b.String()
}

func fileSHA256(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func writeFile(tb testing.TB, path string, data []byte) string {
	tb.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// heapInUse returns live heap bytes after a full collection.
func heapInUse() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// mustWriteManifest writes rows (the first is the header) as a manifest of
// the given format in dir and returns its path: CSV through encoding/csv,
// a one-sheet workbook, or Parquet with a string column per header cell.
// A nil cell is empty (null in Parquet).
func mustWriteManifest(tb testing.TB, dir string, format Format, rows [][]any) string {
	tb.Helper()
	path := filepath.Join(dir, "m."+string(format))
	switch format {
	case CSV:
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		for _, row := range rows {
			rec := make([]string, len(row))
			for i, c := range row {
				if c != nil {
					rec[i] = fmt.Sprint(c)
				}
			}
			if err := w.Write(rec); err != nil {
				tb.Fatal(err)
			}
		}
		w.Flush()
		writeFile(tb, path, b.Bytes())
	case XLSX:
		mustWriteXLSX(tb, path, manifesttest.Workbook{Sheets: []manifesttest.Sheet{{Name: "Requests", Rows: rows}}})
	case Parquet:
		cols := make([]manifesttest.Column, len(rows[0]))
		for i, name := range rows[0] {
			cols[i] = manifesttest.Column{Name: name.(string), Node: manifesttest.String}
		}
		mustWriteParquet(tb, path, cols, rows[1:], 0)
	default:
		tb.Fatalf("no writer for %q", format)
	}
	return path
}

// mustEditZip rewrites the zip (workbook) at path in place, passing every
// part's bytes through edit; it fails the test unless some part changed.
func mustEditZip(tb testing.TB, path string, edit func(name string, data []byte) []byte) string {
	tb.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer zr.Close()
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	changed := false
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			tb.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			tb.Fatal(err)
		}
		edited := edit(f.Name, data)
		changed = changed || !bytes.Equal(edited, data)
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write(edited); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	if !changed {
		tb.Fatalf("%s: the edit changed no part", path)
	}
	return writeFile(tb, path, out.Bytes())
}

// mustRepackZip rewrites the zip at path in place, copying every part's
// packed bytes as they are, with the header fix returns (fix may change
// the header's sizes or checksum to lie about the data).
func mustRepackZip(tb testing.TB, path string, fix func(h zip.FileHeader) zip.FileHeader) {
	tb.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer zr.Close()
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		raw, err := f.OpenRaw()
		if err != nil {
			tb.Fatal(err)
		}
		h := fix(f.FileHeader)
		w, err := zw.CreateRaw(&h)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := io.Copy(w, raw); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	writeFile(tb, path, out.Bytes())
}
