package manifesttest

import (
	"fmt"
	"os"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
	"github.com/xuri/excelize/v2"
)

// Workbook describes an .xlsx file.
type Workbook struct {
	Sheets   []Sheet
	Date1904 bool // use the 1904 date system (old Excel for Mac)
}

// Sheet is one worksheet. Rows run top to bottom from row 1; a nil row is
// left empty. Cells may be a string, an int, a float64, a time.Time (stored
// as an Excel date serial with a date format, as Excel does) or nil.
type Sheet struct {
	Name string
	Rows [][]any
}

// WriteXLSX writes wb to path.
func WriteXLSX(path string, wb Workbook) error {
	f := excelize.NewFile()
	defer f.Close()
	if wb.Date1904 {
		yes := true
		if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &yes}); err != nil {
			return fmt.Errorf("set 1904 dates: %w", err)
		}
	}
	for i, s := range wb.Sheets {
		var err error
		if i == 0 {
			err = f.SetSheetName("Sheet1", s.Name)
		} else {
			_, err = f.NewSheet(s.Name)
		}
		if err != nil {
			return fmt.Errorf("sheet %q: %w", s.Name, err)
		}
		for r, row := range s.Rows {
			if row == nil {
				continue
			}
			cell, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := f.SetSheetRow(s.Name, cell, &row); err != nil {
				return fmt.Errorf("sheet %q row %d: %w", s.Name, r+1, err)
			}
		}
	}
	return f.SaveAs(path)
}

// Column is one top-level Parquet column, e.g.
// {"Ticket ID", parquet.Optional(parquet.String())}.
type Column struct {
	Name string
	Node parquet.Node
}

// Common column nodes.
var (
	String      = parquet.Optional(parquet.String())
	Int64       = parquet.Optional(parquet.Int(64))
	Double      = parquet.Optional(parquet.Leaf(parquet.DoubleType))
	TimestampUS = parquet.Optional(parquet.Timestamp(parquet.Microsecond))
	TimestampMS = parquet.Optional(parquet.Timestamp(parquet.Millisecond))
	Date        = parquet.Optional(parquet.Date())
	Int96       = parquet.Optional(parquet.Leaf(parquet.Int96Type))
	StringList  = parquet.Optional(parquet.List(parquet.String()))
)

// WriteParquet writes rows to path under a schema of cols, with at most
// rowsPerGroup rows per row group (0: one group). Each row holds one value
// per column: nil (null), string, int or int64, float64, or time.Time for
// timestamp, date and INT96 columns.
func WriteParquet(path string, cols []Column, rows [][]any, rowsPerGroup int64) error {
	group := parquet.Group{}
	for _, c := range cols {
		group[c.Name] = c.Node
	}
	schema := parquet.NewSchema("manifest", group)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	opts := []parquet.WriterOption{schema}
	if rowsPerGroup > 0 {
		opts = append(opts, parquet.MaxRowsPerRowGroup(rowsPerGroup))
	}
	w := parquet.NewWriter(f, opts...)
	// The schema orders columns by name; place each value at its leaf.
	leaf := map[string]int{}
	for i, p := range schema.Columns() {
		leaf[p[0]] = i
	}
	for r, row := range rows {
		if len(row) != len(cols) {
			return fmt.Errorf("row %d has %d values for %d columns", r, len(row), len(cols))
		}
		out := make(parquet.Row, len(cols))
		for i, c := range cols {
			v, err := value(c.Node, row[i])
			if err != nil {
				return fmt.Errorf("row %d column %q: %w", r, c.Name, err)
			}
			li := leaf[c.Name]
			if row[i] == nil {
				out[li] = parquet.NullValue().Level(0, 0, li)
			} else {
				out[li] = v.Level(0, 1, li)
			}
		}
		if _, err := w.WriteRows([]parquet.Row{out}); err != nil {
			return fmt.Errorf("write row %d: %w", r, err)
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return f.Close()
}

func value(node parquet.Node, x any) (parquet.Value, error) {
	var lt any
	if l := node.Type().LogicalType(); l != nil {
		lt = l.Value
	}
	switch x := x.(type) {
	case nil:
		return parquet.NullValue(), nil
	case string:
		return parquet.ByteArrayValue([]byte(x)), nil
	case int:
		return parquet.Int64Value(int64(x)), nil
	case int64:
		return parquet.Int64Value(x), nil
	case float64:
		return parquet.DoubleValue(x), nil
	case time.Time:
		switch lt := lt.(type) {
		case *format.DateType:
			return parquet.Int32Value(int32(x.Unix() / 86400)), nil
		case *format.TimestampType:
			return parquet.Int64Value(x.UnixNano() / int64(lt.Unit.Value.Duration())), nil
		}
		if node.Type().Kind() == parquet.Int96 {
			const unixEpochJulianDay = 2440588
			days := x.Unix() / 86400
			nanos := uint64(x.UnixNano() - days*86400e9)
			return parquet.Int96Value(deprecated.Int96{uint32(nanos), uint32(nanos >> 32), uint32(days + unixEpochJulianDay)}), nil
		}
	}
	return parquet.Value{}, fmt.Errorf("cannot store %T in %v", x, node.Type())
}
