package manifest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mt "github.com/ctdsr/ctdsr/batch/manifest/manifesttest"
)

// The fuzz targets feed arbitrary bytes to each reader through Read: it must
// never panic, and must either return a one-line *FileError or rows that
// satisfy every invariant. Plain `go test` runs the seeds.

func FuzzReadCSV(f *testing.F) {
	for _, name := range []string{"messy.csv", "semicolon.csv", "tabs.tsv",
		"unreadable/open-quote.csv", "unreadable/bare-quote.csv", "unreadable/whitespace.csv"} {
		f.Add(mustReadFile(f, fixture(name)))
	}
	f.Add([]byte("id,type,email\nA,access,a@x.io\n\n\"B\",\"del\nete\",b@x.io\r\n,,\n"))
	f.Add([]byte("\uFEFFid;type;uid;due\r\nA;erasure;u1;2024-01-01\r\nA;erasure;u1;2024-01-01\r\nA;access;u1;\r\n"))
	f.Add(mustReadFile(f, mustWriteManifest(f, f.TempDir(), CSV, hygieneRows)))
	f.Add([]byte("id,type,email,uid\nA,access,,u\xff\n\"B\u202e\",access,b@x.io,\nC,access,c\u0301@x.io,\nD,access,,\ufffd\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, "m.csv", data)
	})
}

func FuzzReadParquet(f *testing.F) {
	dir := f.TempDir()
	sub := time.Date(2024, 1, 5, 9, 0, 0, 0, time.UTC)
	f.Add(mustReadFile(f, mustWriteParquet(f, filepath.Join(dir, "a.parquet"),
		[]mt.Column{{Name: "Ticket ID", Node: mt.String}, {Name: "type", Node: mt.String}, {Name: "email", Node: mt.String},
			{Name: "uid", Node: mt.Int64}, {Name: "received", Node: mt.TimestampUS}, {Name: "due", Node: mt.Date}},
		[][]any{{"A", "access", "a@x.io", nil, sub, nil}, {"B", "rtbf", nil, 7, nil, sub}, {nil, "x", "bad", nil, nil, nil}}, 2)))
	f.Add(mustReadFile(f, mustWriteParquet(f, filepath.Join(dir, "b.parquet"),
		[]mt.Column{{Name: "id", Node: mt.String}, {Name: "type", Node: mt.String}, {Name: "email", Node: mt.String},
			{Name: "date", Node: mt.Int96}, {Name: "deadline", Node: mt.String}},
		[][]any{{"A", "access", "a@x.io", sub, "2024-02-01"}}, 0)))
	f.Add(mustReadFile(f, mustWriteManifest(f, f.TempDir(), Parquet, hygieneRows)))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, "m.parquet", data)
	})
}

func FuzzReadXLSX(f *testing.F) {
	wb := filepath.Join(f.TempDir(), "w.xlsx")
	f.Add(mustReadFile(f, mustWriteXLSX(f, wb, requestsWorkbook(false))))
	hygiene := mustWriteManifest(f, f.TempDir(), XLSX, hygieneRows)
	f.Add(mustReadFile(f, hygiene))
	f.Add(mustReadFile(f, mustEditZip(f, hygiene, func(name string, data []byte) []byte {
		return bytes.ReplaceAll(data, []byte("H-12"), []byte("H_xD800_\xff"))
	})))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, "m.xlsx", data)
	})
}

func fuzzRead(t *testing.T, name string, data []byte) {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	info, rows, err := readAll(t, path, Options{})
	if err != nil {
		var fe *FileError
		if !errors.As(err, &fe) {
			t.Fatalf("err = %v (%T); want a *FileError", err, err)
		}
		if msg := err.Error(); strings.ContainsAny(msg, "\r\n") || !strings.HasPrefix(msg, path+": ") {
			t.Fatalf("message %q is not one line naming the file", msg)
		}
		return
	}
	checkInvariants(t, info, rows)
}
