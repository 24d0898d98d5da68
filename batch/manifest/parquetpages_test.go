package manifest

import (
	"bytes"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	mt "github.com/ctdsr/ctdsr/batch/manifest/manifesttest"
)

// TestReadParquetPageClaims gives a page header sizes that a few corrupt
// bytes can claim: Read refuses the file without allocating what they
// claim (parquet-go would size a buffer from them before reading).
func TestReadParquetPageClaims(t *testing.T) {
	tests := []struct {
		name string
		edit func(*format.PageHeader)
		msg  string
	}{
		{"compressed size past the chunk", func(h *format.PageHeader) { h.CompressedPageSize = 200 << 20 },
			"a page claims 209715200 bytes, more than its column chunk holds"},
		{"compressed size past the bound", func(h *format.PageHeader) { h.CompressedPageSize = 1 << 30 },
			"a page claims 1073741824 bytes"},
		{"uncompressed size past the bound", func(h *format.PageHeader) { h.UncompressedPageSize = 1 << 30 },
			"a page claims 1073741824 bytes uncompressed; at most 268435456 are read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := mustWriteParquet(t, filepath.Join(t.TempDir(), "m.parquet"),
				[]mt.Column{{Name: "id", Node: mt.String}, {Name: "type", Node: mt.String}, {Name: "email", Node: mt.String}},
				[][]any{{"R-1", "access", "a@x.io"}, {"R-2", "deletion", "b@x.io"}}, 0)
			mustEditPageHeader(t, path, "id", tt.edit)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, _, err := readAll(t, path, Options{})
			runtime.ReadMemStats(&after)
			var fe *FileError
			if !errors.As(err, &fe) || !errors.Is(err, ErrMalformed) || fe.Column != ColRequestID || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v; want a FileError in column request_id wrapping ErrMalformed, saying %q", err, tt.msg)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
				t.Errorf("reading allocated %d MiB; want the claim refused before any large allocation", alloc>>20)
			}
		})
	}
}

// mustEditPageHeader rewrites the first page header of column's chunk in
// the Parquet file at path.
func mustEditPageHeader(tb testing.TB, path, column string, edit func(*format.PageHeader)) {
	tb.Helper()
	data := mustReadFile(tb, path)
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		tb.Fatal(err)
	}
	offset := int64(-1)
	for _, c := range f.Metadata().RowGroups[0].Columns {
		if c.MetaData.PathInSchema[0] == column {
			offset = c.MetaData.DataPageOffset
		}
	}
	if offset < 0 {
		tb.Fatalf("no column %q", column)
	}
	var proto thrift.CompactProtocol
	r := bytes.NewReader(data[offset:])
	var h format.PageHeader
	if err := thrift.NewDecoder(proto.NewReader(r)).Decode(&h); err != nil {
		tb.Fatal(err)
	}
	end := int64(len(data)) - int64(r.Len())
	edit(&h)
	header, err := thrift.Marshal(&proto, &h)
	if err != nil {
		tb.Fatal(err)
	}
	out := append(append(append([]byte(nil), data[:offset]...), header...), data[end:]...)
	writeFile(tb, path, out)
}
