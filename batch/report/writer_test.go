package report

import (
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// event exercises every column kind later reports use: timestamps, a JSON
// payload as a plain string, a real LIST, optional values.
type event struct {
	ID      string    `parquet:"id"`
	At      time.Time `parquet:"at,timestamp(microsecond)"`
	Seen    time.Time `parquet:"seen,optional,timestamp(microsecond)"`
	Payload string    `parquet:"payload"`
	Tags    []string  `parquet:"tags,list"`
	Count   int32     `parquet:"count"`
}

func TestWriterColumnTypes(t *testing.T) {
	path := join(t.TempDir(), "events.parquet")
	w, err := Create[event](path)
	if err != nil {
		t.Fatal(err)
	}
	cet := time.FixedZone("CET", 3600)
	in := []event{
		{ID: "e1", At: time.Date(2024, 1, 5, 10, 0, 0, 123456789, cet), Payload: `{"a":1}`, Tags: []string{"x", "y"}, Count: 2},
		{ID: "e2", At: time.Date(2024, 1, 6, 0, 0, 0, 0, time.UTC), Seen: time.Date(2024, 1, 7, 0, 0, 0, 0, time.UTC), Payload: "not json"},
	}
	if err := w.Write(in...); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	f := openParquet(t, path)
	want := []string{
		"id: BYTE_ARRAY STRING", "at: INT64 TIMESTAMP(isAdjustedToUTC=true,unit=MICROS)",
		"seen: INT64 TIMESTAMP(isAdjustedToUTC=true,unit=MICROS) optional", "payload: BYTE_ARRAY STRING",
		"tags: group LIST", "count: INT32 INT(32,true)",
	}
	if got := columnTypes(f); !slices.Equal(got, want) {
		t.Errorf("columns = %q\nwant %q", got, want)
	}
	got := readRows[event](t, path)
	if len(got) != 2 {
		t.Fatalf("read %d rows, want 2", len(got))
	}
	// Microsecond precision, the same instant whatever the zone written.
	if wantAt := in[0].At.Truncate(time.Microsecond); !got[0].At.Equal(wantAt) {
		t.Errorf("at = %v, want %v", got[0].At, wantAt)
	}
	if !slices.Equal(got[0].Tags, []string{"x", "y"}) || got[1].Tags != nil && len(got[1].Tags) != 0 {
		t.Errorf("tags = %q, %q; want [x y], []", got[0].Tags, got[1].Tags)
	}
	if !got[0].Seen.IsZero() || !got[1].Seen.Equal(in[1].Seen) || got[1].Payload != "not json" {
		t.Errorf("row 2 = %+v; want seen %v and the payload as written", got[1], in[1].Seen)
	}
}

func TestCreateRefusesBadSchemas(t *testing.T) {
	dir := t.TempDir()
	type nanos struct {
		At time.Time `parquet:"at"`
	}
	type local struct {
		At time.Time `parquet:"at,timestamp(microsecond:local)"`
	}
	type millis struct {
		At int64 `parquet:"at,timestamp(millisecond)"`
	}
	type jsonCol struct {
		Body string `parquet:"body,json"`
	}
	type badTag struct {
		At time.Time `parquet:"at,timestamp(fortnight)"`
	}
	type nested struct {
		Inner struct {
			At time.Time `parquet:"at"`
		} `parquet:"inner"`
	}
	tests := []struct {
		name   string
		create func(string) error
		msg    string
	}{
		{"default nanosecond time", tryCreate[nanos], "column at is TIMESTAMP(isAdjustedToUTC=true,unit=NANOS)"},
		{"local timestamp", tryCreate[local], "isAdjustedToUTC=false"},
		{"millisecond timestamp", tryCreate[millis], "unit=MILLIS"},
		{"JSON logical type", tryCreate[jsonCol], "column body uses the JSON logical type"},
		{"unparsable tag", tryCreate[badTag], "fortnight"},
		{"nested time", tryCreate[nested], "column inner.at is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.create(join(dir, "x.parquet"))
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Create = %v; want an error containing %q", err, tt.msg)
			}
		})
	}
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Errorf("files left behind: %q", names)
	}
}

func tryCreate[T any](path string) error {
	w, err := Create[T](path)
	if err == nil {
		w.Abort()
	}
	return err
}

func TestWriterBoundsRowGroups(t *testing.T) {
	path := join(t.TempDir(), "r.parquet")
	w, err := Create[RejectRow](path, MaxRowsPerRowGroup(10))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 25 {
		if err := w.Write(RejectRow{SourceFile: "m.csv", SourceRow: int64(i + 2), Reason: "r"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f := openParquet(t, path)
	var sizes []int64
	for _, rg := range f.RowGroups() {
		sizes = append(sizes, rg.NumRows())
	}
	if !slices.Equal(sizes, []int64{10, 10, 5}) || w.Rows() != 25 {
		t.Errorf("row groups %v, Rows %d; want [10 10 5], 25", sizes, w.Rows())
	}
	if _, err := Create[RejectRow](path, MaxRowsPerRowGroup(0)); err == nil {
		t.Error("MaxRowsPerRowGroup(0) accepted; want an error")
	}
}

// TestWriterAtomic checks that the file appears only on Close, private, and
// that Abort leaves the previous report in place.
func TestWriterAtomic(t *testing.T) {
	dir := t.TempDir()
	path := join(dir, RejectsFile)
	if err := os.WriteFile(path, []byte("previous report"), 0o600); err != nil {
		t.Fatal(err)
	}

	w, err := Create[RejectRow](path)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(RejectRow{SourceFile: "m.csv", SourceRow: 2, Reason: "r"})
	names := dirEntries(t, dir)
	if len(names) != 2 || !strings.HasPrefix(names[0], "."+RejectsFile+".") {
		t.Fatalf("while writing, dir has %q; want the old file and one hidden temp file", names)
	}
	if st, _ := os.Stat(join(dir, names[0])); st.Mode().Perm() != 0o600 {
		t.Errorf("temp file mode %v, want 0600", st.Mode().Perm())
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "previous report" {
		t.Errorf("after Abort the file holds %q; want the previous report", b)
	}
	if names := dirEntries(t, dir); !slices.Equal(names, []string{RejectsFile}) {
		t.Errorf("after Abort dir has %q", names)
	}
	if err := w.Close(); err == nil {
		t.Error("Close after Abort succeeded; want the abort error")
	}

	w, err = Create[RejectRow](path)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(RejectRow{SourceFile: "m.csv", SourceRow: 2, Reason: "r"})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if names := dirEntries(t, dir); !slices.Equal(names, []string{RejectsFile}) {
		t.Errorf("after Close dir has %q", names)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("published file: %v, mode %v; want mode 0600", err, st.Mode().Perm())
	}
	if rows := readRows[RejectRow](t, path); len(rows) != 1 {
		t.Errorf("published file has %d rows, want 1", len(rows))
	}
	if err := w.Write(RejectRow{}); err == nil {
		t.Error("Write after Close succeeded")
	}
	if err := w.Abort(); err != nil {
		t.Errorf("Abort after Close = %v, want nil", err)
	}
}

func TestCreateInMissingDir(t *testing.T) {
	path := join(t.TempDir(), "no/such/dir/r.parquet")
	_, err := Create[RejectRow](path)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("err = %v; want ErrNotExist naming %s", err, path)
	}
}
