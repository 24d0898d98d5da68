package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// The sheets of report.xlsx: their names, columns (header and width) and
// how a row becomes cells. Cell types come from the Go values (see
// cellOf): strings are text, times are UTC dates, integers and floats are
// numbers, booleans are TRUE/FALSE, nil is an empty cell.

// The sheet names. A section too long for one sheet continues on
// "<name> (2)", "<name> (3)", and so on.
const (
	SummarySheet   = "Summary"
	RequestsSheet  = "Requests"
	DeletionsSheet = "Deletions"
	RejectsSheet   = "Rejects"
)

// column is one column of a sheet.
type column struct {
	header string
	width  float64 // in characters, as Excel measures
}

// dateWidth fits "yyyy-mm-dd hh:mm:ss" and a header such as "Due (UTC)".
const dateWidth = 20

var requestColumns = []column{
	{"Request ID", 24}, {"Type", 10}, {"Status", 16}, {"Late", 7},
	{"Submitted (UTC)", dateWidth}, {"Due (UTC)", dateWidth}, {"Completed (UTC)", dateWidth},
	{"Days open", 10}, {"Profiles", 9}, {"Events", 11}, {"Detail", 60},
}

func requestCells(r RequestRow) []any {
	return []any{r.RequestID, r.RequestType, r.Status, r.Late,
		r.SubmittedAt, r.DueAt, r.CompletedAt,
		r.DaysOpen, r.ProfilesFound, r.EventsExported, r.Detail}
}

var deletionColumns = []column{
	{"Request ID", 24}, {"Status", 16}, {"Object IDs", 40},
	{"Requested (UTC)", dateWidth}, {"Verified (UTC)", dateWidth},
	{"Checks", 8}, {"Last checked (UTC)", dateWidth}, {"Detail", 60},
}

func deletionCells(r DeletionRow) []any {
	return []any{r.RequestID, r.Status, strings.Join(r.ObjectIDs, ", "),
		r.DeleteRequestedAt, r.VerifiedAt, r.Checks, r.LastCheckedAt, r.Detail}
}

var rejectColumns = []column{
	{"File", 30}, {"Row", 8}, {"Request ID", 24}, {"Column", 16}, {"Reason", 70},
}

func rejectCells(r RejectRow) []any {
	var row any // a whole-file reject (row 0) has no row number
	if r.SourceRow != 0 {
		row = r.SourceRow
	}
	return []any{r.SourceFile, row, r.RequestID, r.Column, r.Reason}
}

var summaryColumns = []column{{"Item", 36}, {"Value", 60}}

// styles are the cell styles of a workbook, registered once.
type styles struct {
	header int // bold
	text   int // number format "@": Excel keeps the cell text, even when edited
	date   int // yyyy-mm-dd hh:mm:ss
}

// dateFormat shows a date-time the ISO 8601 way, whatever the reader's locale.
const dateFormat = "yyyy-mm-dd hh:mm:ss"

func newStyles(f *excelize.File) (styles, error) {
	var s styles
	var err error
	if s.header, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Border: []excelize.Border{{Type: "bottom", Color: "000000", Style: 1}}}); err != nil {
		return s, fmt.Errorf("header style: %w", err)
	}
	if s.text, err = f.NewStyle(&excelize.Style{NumFmt: 49}); err != nil {
		return s, fmt.Errorf("text style: %w", err)
	}
	format := dateFormat
	if s.date, err = f.NewStyle(&excelize.Style{CustomNumFmt: &format}); err != nil {
		return s, fmt.Errorf("date style: %w", err)
	}
	return s, nil
}

// cellOf turns a Go value into a typed cell. Strings become text cells
// (never formulas, see cells.go), cut to what a cell holds; times become
// dates in UTC; an empty string, a nil time or nil become an empty cell.
func (s styles) cellOf(v any) (any, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		if v == "" {
			return nil, nil
		}
		return excelize.Cell{StyleID: s.text, Value: excelText(v)}, nil
	case time.Time:
		if v.IsZero() {
			return nil, nil
		}
		return excelize.Cell{StyleID: s.date, Value: v.UTC()}, nil
	case *time.Time:
		if v == nil {
			return nil, nil
		}
		return s.cellOf(*v)
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return v, nil
	}
	return nil, fmt.Errorf("a cell cannot hold a %T; use a string, number, bool or time.Time", v)
}

// cells types every value of a row.
func (s styles) cells(vals []any) ([]any, error) {
	row := make([]any, len(vals))
	for i, v := range vals {
		c, err := s.cellOf(v)
		if err != nil {
			return nil, fmt.Errorf("column %d: %w", i+1, err)
		}
		row[i] = c
	}
	return row, nil
}

// headerCells is a header row in the header style.
func (s styles) headerCells(cols []column) []any {
	row := make([]any, len(cols))
	for i, c := range cols {
		row[i] = excelize.Cell{StyleID: s.header, Value: c.header}
	}
	return row
}
