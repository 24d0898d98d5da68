package manifest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// pqBatch is how many rows are decoded at a time: memory stays bounded by
// the batch and the pages being read, whatever the file size.
const pqBatch = 1024

// pqColumn reads one canonical column of a row group.
type pqColumn struct {
	idx    int // canonical index
	leaf   int // leaf column index in the file
	decode func(parquet.Value) cell
	pages  parquet.Pages
	vr     parquet.ValueReader
	vals   []parquet.Value
	cells  []cell
}

// readParquet streams a Parquet manifest into b. Columns are matched by name
// like CSV headers. Rows are numbered as if the file were exported to a
// spreadsheet: the column names are row 1 and the first data row is row 2.
// A malformed file is an ErrMalformed error, never a panic.
func readParquet(r io.ReaderAt, size int64, b *builder) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", ErrMalformed, p)
		}
	}()
	if err := checkFooter(r, size); err != nil {
		return err
	}
	f, err := parquet.OpenFile(r, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	top := f.Root().Columns()
	names := make([]string, len(top))
	for i, c := range top {
		names[i] = c.Name()
	}
	if err := b.setHeader(names, 1); err != nil {
		return err
	}
	var cols []*pqColumn
	for idx := range numColumns {
		p := b.hdr.pos[idx]
		if p < 0 {
			continue
		}
		decode, err := b.pqDecoder(idx, top[p])
		if err != nil {
			return &FileError{Path: b.path, Column: top[p].Name(), Err: err}
		}
		cols = append(cols, &pqColumn{idx: idx, leaf: top[p].Index(), decode: decode,
			vals: make([]parquet.Value, pqBatch), cells: make([]cell, pqBatch)})
	}

	row := 1
	meta := f.Metadata().RowGroups
	for i, rg := range f.RowGroups() {
		chunks := rg.ColumnChunks()
		for _, c := range cols {
			if err := checkPageSizes(r, size, &meta[i].Columns[c.leaf].MetaData); err != nil {
				return &FileError{Path: b.path, Row: row + 1, Column: columnDefs[c.idx].name, Err: err}
			}
			c.pages, c.vr = chunks[c.leaf].Pages(), nil
		}
		for left := rg.NumRows(); left > 0; {
			n := int(min(left, pqBatch))
			for _, c := range cols {
				if err := c.read(n); err != nil {
					return &FileError{Path: b.path, Row: row + 1, Column: columnDefs[c.idx].name, Err: err}
				}
			}
			for i := range n {
				row++
				rec := record{row: row}
				for _, c := range cols {
					rec.cells[c.idx] = c.cells[i]
				}
				if err := b.add(&rec); err != nil {
					return err
				}
			}
			left -= int64(n)
		}
		for _, c := range cols {
			c.pages.Close()
		}
	}
	return nil
}

// checkFooter refuses a file whose footer length does not fit in it, before
// parquet-go allocates a buffer of that length (up to 4 GiB), or whose
// footer declares a list, set, map or string longer than the bytes left in
// it: parquet-go's Thrift decoder allocates a list's declared length before
// reading it, so a footer of 1 KB claiming 2e9 schema elements is a fatal
// out of memory, which recover cannot catch.
func checkFooter(r io.ReaderAt, size int64) error {
	const magic = 4
	var tail [8]byte
	if size < int64(2*magic+len(tail)) {
		return fmt.Errorf("%w: only %d bytes, too short for Parquet", ErrMalformed, size)
	}
	if _, err := r.ReadAt(tail[:], size-int64(len(tail))); err != nil {
		return fmt.Errorf("%w: reading the footer: %v", ErrMalformed, err)
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n > size-magic-int64(len(tail)) {
		return fmt.Errorf("%w: footer length %d exceeds the file", ErrMalformed, n)
	}
	footer := make([]byte, n)
	if _, err := r.ReadAt(footer, size-int64(len(tail))-n); err != nil {
		return fmt.Errorf("%w: reading the footer: %v", ErrMalformed, err)
	}
	if w := (compactWalker{b: footer}); !w.value(compactStruct, 0) {
		return fmt.Errorf("%w: the footer (%d bytes) does not decode, or declares more items than it holds", ErrMalformed, n)
	}
	return nil
}

// compactWalker skips one Thrift compact-protocol value and reports whether
// every list, set, map and string in it declares no more items than there
// are bytes left (an item takes one at least, a map entry two).
type compactWalker struct {
	b []byte
	i int
}

const compactStruct = 12

func (w *compactWalker) value(typ byte, depth int) bool {
	if depth > 64 {
		return false
	}
	switch typ {
	case 1, 2, 3: // a bool in a list or map, a byte
		return w.skip(1, 1)
	case 4, 5, 6: // i16, i32, i64
		_, ok := w.uvarint()
		return ok
	case 7: // double
		return w.skip(1, 8)
	case 8: // binary
		n, ok := w.uvarint()
		return ok && w.skip(n, 1)
	case 9, 10: // list, set
		if w.i >= len(w.b) {
			return false
		}
		h := w.b[w.i]
		w.i++
		n, ok := uint64(h>>4), true
		if n == 15 {
			n, ok = w.uvarint()
		}
		if !ok || n > uint64(len(w.b)-w.i) {
			return false
		}
		for range n {
			if !w.value(h&0x0f, depth+1) {
				return false
			}
		}
		return true
	case 11: // map
		n, ok := w.uvarint()
		if !ok || n > uint64(len(w.b)-w.i)/2 {
			return false
		}
		if n == 0 {
			return true
		}
		kv := w.b[w.i]
		w.i++
		for range n {
			if !w.value(kv>>4, depth+1) || !w.value(kv&0x0f, depth+1) {
				return false
			}
		}
		return true
	case compactStruct:
		for w.i < len(w.b) {
			h := w.b[w.i]
			w.i++
			if h == 0 {
				return true
			}
			if h>>4 == 0 { // the field id follows
				if _, ok := w.uvarint(); !ok {
					return false
				}
			}
			if t := h & 0x0f; t != 1 && t != 2 && !w.value(t, depth+1) { // a bool field's value is its type
				return false
			}
		}
	}
	return false
}

// skip steps over n items of size bytes.
func (w *compactWalker) skip(n, size uint64) bool {
	if n > uint64(len(w.b)-w.i)/size {
		return false
	}
	w.i += int(n * size)
	return true
}

func (w *compactWalker) uvarint() (uint64, bool) {
	v, n := binary.Uvarint(w.b[w.i:])
	w.i += max(n, 0)
	return v, n > 0
}

// read decodes the next n values of the column into c.cells. Values are
// copied out of each page before the next is read.
func (c *pqColumn) read(n int) error {
	got := 0
	for got < n {
		if c.vr == nil {
			page, err := c.pages.ReadPage()
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("%w: the column has fewer values than the row group has rows", ErrMalformed)
			}
			if err != nil {
				return fmt.Errorf("%w: %v", ErrMalformed, err)
			}
			c.vr = page.Values()
		}
		m, err := c.vr.ReadValues(c.vals[got:n])
		for i := got; i < got+m; i++ {
			if c.vals[i].RepetitionLevel() != 0 {
				return fmt.Errorf("%w: a value repeats within one row", ErrMalformed)
			}
			c.cells[i] = c.decode(c.vals[i])
		}
		got += m
		switch {
		case errors.Is(err, io.EOF):
			c.vr = nil
		case err != nil:
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		case m == 0:
			return fmt.Errorf("%w: a page yields no values", ErrMalformed)
		}
	}
	return nil
}

// pqDecoder checks that column col can hold canonical column idx and
// returns how to decode its values. The column's kind decides: every kind
// takes strings; ids also take integers; dates also take TIMESTAMP, DATE
// and INT96.
func (b *builder) pqDecoder(idx int, col *parquet.Column) (func(parquet.Value) cell, error) {
	d := &columnDefs[idx]
	wrongType := func() error {
		return fmt.Errorf("%w: %s holds %s; want %s", ErrColumnType, d.name, typeName(col), d.kind.parquetTypes())
	}
	if !col.Leaf() || col.Repeated() {
		return nil, wrongType()
	}
	var lt any
	if l := col.Type().LogicalType(); l != nil {
		lt = l.Value
	}
	switch col.Type().Kind() {
	case parquet.ByteArray:
		switch lt.(type) {
		case nil, *format.StringType, *format.EnumType:
			return textCell, nil
		}
	case parquet.Int32, parquet.Int64:
		switch lt := lt.(type) {
		case nil, *format.IntType:
			if d.kind == kindID {
				return intCell, nil
			}
		case *format.DateType:
			if d.kind == kindDate {
				return b.dateCell, nil
			}
		case *format.TimestampType:
			if d.kind == kindDate && col.Type().Kind() == parquet.Int64 && lt.Unit.Value != nil {
				return b.timestampCell(lt.Unit.Value.Duration(), lt.IsAdjustedToUTC), nil
			}
		}
	case parquet.Int96:
		if d.kind == kindDate {
			return int96Cell, nil
		}
	}
	return nil, wrongType()
}

// parquetTypes names the Parquet types a column of kind k may have, for
// ErrColumnType messages.
func (k kind) parquetTypes() string {
	switch k {
	case kindID:
		return "a string or an integer"
	case kindDate:
		return "a string, TIMESTAMP or DATE"
	}
	return "a string"
}

func typeName(col *parquet.Column) string {
	switch {
	case !col.Leaf():
		return "a group of columns"
	case col.Repeated():
		return "a list"
	}
	return col.Type().String()
}

func textCell(v parquet.Value) cell {
	if v.IsNull() {
		return cell{}
	}
	return cell{text: string(v.ByteArray())}
}

func intCell(v parquet.Value) cell {
	switch {
	case v.IsNull():
		return cell{}
	case v.Kind() == parquet.Int32:
		return cell{text: strconv.FormatInt(int64(v.Int32()), 10)}
	}
	return cell{text: strconv.FormatInt(v.Int64(), 10)}
}

// dateCell reads a DATE (days since 1970-01-01) as midnight in Location.
func (b *builder) dateCell(v parquet.Value) cell {
	if v.IsNull() {
		return cell{}
	}
	t := time.Date(1970, 1, 1+int(v.Int32()), 0, 0, 0, 0, b.opts.Location)
	return cell{t: t.UTC(), typed: true}
}

// timestampCell reads a TIMESTAMP; one not adjusted to UTC is a wall clock
// read in Location.
func (b *builder) timestampCell(unit time.Duration, utc bool) func(parquet.Value) cell {
	return func(v parquet.Value) cell {
		if v.IsNull() {
			return cell{}
		}
		var t time.Time
		switch n := v.Int64(); unit {
		case time.Millisecond:
			t = time.UnixMilli(n)
		case time.Microsecond:
			t = time.UnixMicro(n)
		default:
			t = time.Unix(0, n)
		}
		t = t.UTC()
		if !utc {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), b.opts.Location)
		}
		return cell{t: t.UTC(), typed: true}
	}
}

// int96Cell reads the legacy Impala/Spark INT96 timestamp: nanoseconds of
// the day, then the Julian day number, in UTC.
func int96Cell(v parquet.Value) cell {
	if v.IsNull() {
		return cell{}
	}
	i := v.Int96()
	nanos := int64(uint64(i[1])<<32 | uint64(i[0]))
	const unixEpochJulianDay = 2440588
	days := int64(i[2]) - unixEpochJulianDay
	t := time.Unix(days*86400, 0).Add(time.Duration(nanos)).UTC()
	return cell{t: t, typed: true}
}
