package report

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// openParquet opens a written file with parquet-go's reader, independent
// of the writing path.
func openParquet(tb testing.TB, path string) *parquet.File {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		tb.Fatal(err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		tb.Fatalf("open %s as Parquet: %v", path, err)
	}
	return pf
}

// readRows reads every row of path back as T.
func readRows[T any](tb testing.TB, path string) []T {
	tb.Helper()
	rows, err := parquet.ReadFile[T](path)
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	return rows
}

// columnTypes describes each top-level column as "name: PHYSICAL LOGICAL",
// PHYSICAL being "group" for a group; "optional" marks nullable columns.
func columnTypes(f *parquet.File) []string {
	var out []string
	for _, c := range f.Root().Columns() {
		s := c.Name() + ": group"
		if c.Leaf() {
			s = c.Name() + ": " + c.Type().Kind().String()
		}
		if lt := c.Type().LogicalType(); lt != nil && lt.Value != nil {
			s += " " + lt.String()
		}
		if c.Optional() {
			s += " optional"
		}
		out = append(out, s)
	}
	return out
}

// dirEntries lists the names in dir.
func dirEntries(tb testing.TB, dir string) []string {
	tb.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

func join(dir, name string) string { return filepath.Join(dir, name) }
