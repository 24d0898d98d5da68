package manifest

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch/manifest/manifesttest"
)

// requestsWorkbook is the workbook fixture: a header below an empty row,
// Excel date serials and typed numbers, a gap row, bad rows, and a second
// sheet.
func requestsWorkbook(date1904 bool) manifesttest.Workbook {
	may1 := time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC)
	return manifesttest.Workbook{Date1904: date1904, Sheets: []manifesttest.Sheet{
		{Name: "Requests", Rows: [][]any{
			nil,
			{"Request ID", "Type", "Email", "User ID", "Submitted", "Due Date", "Comment"},
			{"X-1", "Access", " Xena@Example.com ", nil, may1, nil, "dated cell"},
			{1002, "deletion", nil, 12345, nil, "2024-06-01", "numbers as numbers"},
			nil,
			{"X-3", "access", "bad@", nil, nil, nil, nil},
			{"X-4", "erase", "yan@example.com", nil, "May 1st", nil, nil},
			{"X-5", "access", "zed@example.com", nil, nil, 99999999.0, nil},
			{"X-6", "SAR", "amy@example.com", nil, "2024-05-02T10:00:00+02:00", may1.AddDate(0, 1, 0), nil},
		}},
		{Name: "Other", Rows: [][]any{
			{"id", "type", "email"},
			{"O-1", "access", "o@example.com"},
		}},
	}}
}

func TestReadXLSX(t *testing.T) {
	// The first sheet reads the same in both date systems: the workbook
	// writer stores its dates as serials of the system it declares.
	firstSheet := map[int]string{
		3: "X-1 access email=xena@example.com sub=2024-05-01T09:30:00Z due=2024-05-31T09:30:00Z",
		4: "1002 deletion user=12345 due=2024-06-01T00:00:00Z",
		6: "reject X-3 [email]: not a valid email address: nothing after the @",
		7: `reject X-4 [submitted_at]: cannot read "May 1st" as a date; use YYYY-MM-DD or ISO 8601 such as 2024-01-31T09:00:00Z`,
		8: "reject X-5 [due_at]: 99999999 is out of range for an Excel date",
		9: "X-6 access email=amy@example.com sub=2024-05-02T08:00:00Z due=2024-06-01T09:30:00Z",
	}
	tests := []struct {
		name     string
		date1904 bool
		sheet    string
		outcome  map[int]string
		blank    int
		unknown  []string
	}{
		{
			name: "first sheet", unknown: []string{"Comment"}, blank: 1,
			outcome: firstSheet,
		},
		{
			name: "1904 date system", date1904: true, unknown: []string{"Comment"}, blank: 1,
			outcome: firstSheet,
		},
		{
			name: "named sheet", sheet: "Other",
			outcome: map[int]string{2: "O-1 access email=o@example.com"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := mustWriteXLSX(t, filepath.Join(t.TempDir(), "requests.xlsx"), requestsWorkbook(tt.date1904))
			info, rows := mustRead(t, path, Options{Sheet: tt.sheet})
			if d := diffOutcomes(outcomes(rows), tt.outcome); d != "" {
				t.Errorf("outcomes differ:\n%s", d)
			}
			wantSheet := tt.sheet
			if wantSheet == "" {
				wantSheet = "Requests"
			}
			if info.Format != XLSX || info.Sheet != wantSheet || info.Blank != tt.blank {
				t.Errorf("Format, Sheet, Blank = %q, %q, %d; want xlsx, %q, %d", info.Format, info.Sheet, info.Blank, wantSheet, tt.blank)
			}
			if want := fileSHA256(t, path); info.SHA256 != want {
				t.Errorf("SHA256 = %s, want %s", info.SHA256, want)
			}
			if len(info.UnknownColumns) != len(tt.unknown) || (len(tt.unknown) > 0 && info.UnknownColumns[0] != tt.unknown[0]) {
				t.Errorf("UnknownColumns = %q, want %q", info.UnknownColumns, tt.unknown)
			}
		})
	}
}

func TestReadXLSXUnreadable(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		wb    manifesttest.Workbook
		sheet string
		err   error
		msg   string
	}{
		{"unknown sheet", requestsWorkbook(false), "Nope", ErrNoSheet, `no such sheet "Nope"; the workbook has "Requests", "Other"`},
		{"empty sheet", manifesttest.Workbook{Sheets: []manifesttest.Sheet{{Name: "Blank"}}}, "", ErrEmpty, `sheet "Blank" has no header row`},
		{"header only", manifesttest.Workbook{Sheets: []manifesttest.Sheet{{Name: "S", Rows: [][]any{{"id", "type", "email"}, nil, {" "}}}}}, "", ErrNoRows, "no data rows"},
		{"missing column", manifesttest.Workbook{Sheets: []manifesttest.Sheet{{Name: "S", Rows: [][]any{nil, {"id", "email"}, {"R-1", "a@x.io"}}}}}, "",
			ErrMissingColumn, `row 2: missing required column request_type (found: "id", "email")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := mustWriteXLSX(t, filepath.Join(dir, tt.name+".xlsx"), tt.wb)
			_, _, err := readAll(t, path, Options{Sheet: tt.sheet})
			var fe *FileError
			if !errors.As(err, &fe) || !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v; want a FileError wrapping %v containing %q", err, tt.err, tt.msg)
			}
		})
	}
}
