package manifest

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
)

func TestReadCSVFixtures(t *testing.T) {
	messy := fixture("messy.csv")
	const badDate = `; use YYYY-MM-DD or ISO 8601 such as 2024-01-31T09:00:00Z`
	tests := []struct {
		file    string
		info    Info // the counts, unknown columns and types to expect
		outcome map[int]string
	}{
		{
			file: "messy.csv",
			info: Info{Rows: 21, Accepted: 7, Merged: 1, Rejected: 13, Blank: 2,
				UnknownColumns: []string{"Notes", "Agent Name"},
				Types:          map[batch.RequestType]int{batch.Access: 4, batch.Deletion: 3}},
			outcome: map[int]string{
				2:  "R-1001 access email=alice@example.com sub=2024-01-05T00:00:00Z due=2024-02-04T00:00:00Z",
				3:  "R-1002 deletion user=cust-42 sub=2024-01-06T09:30:00Z due=2024-02-01T00:00:00Z",
				4:  "R-1003 deletion email=bob@example.org user=cust-43 sub=2024-01-07T10:00:00Z due=2024-02-06T10:00:00Z",
				6:  "R-1004 access email=carol@example.net",
				7:  "reject  [request_id]: missing request id",
				8:  `reject R-1006 [request_type]: unknown request type "refund"; use access or deletion`,
				9:  "reject R-1007 [request_type]: missing request type",
				10: "reject R-1008 [email]: not a valid email address: no @",
				11: "reject R-1009 [email]: not a valid email address: the domain needs a dot, as in example.com",
				12: "reject R-1010 [email]: not a valid email address: contains spaces, quotes, brackets or a list separator",
				13: "reject R-1011 []: needs an email or a user id",
				14: `reject R-1012 [submitted_at]: cannot read "31/01/2024" as a date` + badDate,
				15: `reject R-1013 [due_at]: cannot read "next week" as a date` + badDate,
				16: "reject R-1014 [due_at]: due date is before the submission date",
				17: "reject R-1015 []: row has 3 cells but the header has 8",
				18: "merge R-1001 into row 2",
				19: "reject R-1002 [request_id]: request id already used at " + messy + ":3 with different content",
				21: "reject  [request_id]: request id contains a control character (U+0009 CHARACTER TABULATION)",
				22: "R-1017 access email=trent@example.com sub=2024-03-01T07:00:00Z due=2024-03-15T16:00:00Z",
				23: "R-1018 deletion email=victor@example.com user=cust-99",
				24: "R-1019 access email=walter@example.com",
			},
		},
		{
			file: "semicolon.csv",
			info: Info{Rows: 5, Accepted: 2, Rejected: 3,
				Types: map[batch.RequestType]int{batch.Access: 1, batch.Deletion: 1}},
			outcome: map[int]string{
				2: "C-1 access email=anna@example.de sub=2024-04-02T00:00:00Z due=2024-05-02T00:00:00Z",
				3: "reject C-2 [email]: not a valid email address: contains spaces, quotes, brackets or a list separator",
				4: `reject C-3 [request_type]: unknown request type "Löschung"; use access or deletion`,
				5: "C-4 deletion user=u-77 sub=2024-04-03T00:00:00Z due=2024-04-20T00:00:00Z",
				6: `reject C-5 [submitted_at]: cannot read "03.04.2024" as a date` + badDate,
			},
		},
		{
			file: "tabs.tsv",
			info: Info{Rows: 3, Accepted: 2, Rejected: 1, UnknownColumns: []string{"comment, free text"},
				Types: map[batch.RequestType]int{batch.Access: 1, batch.Deletion: 1}},
			outcome: map[int]string{
				2: "T-1 access email=uma@example.com",
				3: "T-2 deletion user=u-5",
				4: "reject T-3 [email]: not a valid email address: the domain needs a dot, as in example.com",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := fixture(tt.file)
			info, rows := mustRead(t, path, Options{})
			if d := diffOutcomes(outcomes(rows), tt.outcome); d != "" {
				t.Errorf("outcomes differ:\n%s", d)
			}
			if info.Format != CSV || info.Path != path {
				t.Errorf("Format, Path = %q, %q; want csv, %q", info.Format, info.Path, path)
			}
			if want := fileSHA256(t, path); info.SHA256 != want {
				t.Errorf("SHA256 = %s, want %s", info.SHA256, want)
			}
			got := [5]int{info.Rows, info.Accepted, info.Merged, info.Rejected, info.Blank}
			want := [5]int{tt.info.Rows, tt.info.Accepted, tt.info.Merged, tt.info.Rejected, tt.info.Blank}
			if got != want {
				t.Errorf("Rows, Accepted, Merged, Rejected, Blank = %v, want %v", got, want)
			}
			if !slices.Equal(info.UnknownColumns, tt.info.UnknownColumns) {
				t.Errorf("UnknownColumns = %q, want %q", info.UnknownColumns, tt.info.UnknownColumns)
			}
			for _, typ := range []batch.RequestType{batch.Access, batch.Deletion} {
				if info.Types[typ] != tt.info.Types[typ] {
					t.Errorf("Types[%s] = %d, want %d", typ, info.Types[typ], tt.info.Types[typ])
				}
			}
		})
	}
}

func TestReadCSVHeaderMapping(t *testing.T) {
	info, _ := mustRead(t, fixture("messy.csv"), Options{})
	want := []Column{
		{0, "Ticket ID", ColRequestID}, {1, "Request", ColRequestType}, {2, "E-Mail Address", ColEmail},
		{3, "Customer ID", ColUserID}, {4, "Received At", ColSubmittedAt}, {5, "Deadline", ColDueAt},
		{6, "Notes", ""}, {7, "Agent Name", ""},
	}
	if !slices.Equal(info.Columns, want) {
		t.Errorf("Columns = %+v\nwant %+v", info.Columns, want)
	}
}

func TestReadCSVLocation(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	_, rows := mustRead(t, fixture("messy.csv"), Options{Location: cet})
	got := outcomes(rows)
	// Dates without a zone move; those with one do not.
	for row, want := range map[int]string{
		2:  "R-1001 access email=alice@example.com sub=2024-01-04T23:00:00Z due=2024-02-03T23:00:00Z",
		3:  "R-1002 deletion user=cust-42 sub=2024-01-06T09:30:00Z due=2024-01-31T23:00:00Z",
		22: "R-1017 access email=trent@example.com sub=2024-03-01T07:00:00Z due=2024-03-15T16:00:00Z",
	} {
		if got[row] != want {
			t.Errorf("row %d = %q, want %q", row, got[row], want)
		}
	}
}

// TestReadCSVRowNumbers checks rows as a spreadsheet shows them, built
// line by line so each case says what it exercises.
func TestReadCSVRowNumbers(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		rows  []int // rows of the data records, in order
		blank int
	}{
		{"plain", []string{"id,type,email", "A,access,a@x.io", "B,access,b@x.io"}, []int{2, 3}, 0},
		{"blank lines count as rows", []string{"id,type,email", "", "A,access,a@x.io", "", "", "B,access,b@x.io"}, []int{3, 6}, 3},
		{"leading blank lines", []string{"", "id,type,email", "A,access,a@x.io"}, []int{3}, 0},
		{"quoted newline is one row", []string{"id,type,email", `A,access,"a@x.io`, `"`, "B,access,b@x.io"}, []int{2, 3}, 0},
		{"quoted newline in a middle cell", []string{"id,type,email,note", `A,"access`, `",a@x.io,x`, "B,access,b@x.io,y"}, []int{2, 3}, 0},
		{"quoted newlines at the end", []string{"id,type,email,note", `A,access,a@x.io,"1`, "2", `3"`, "", "B,access,b@x.io,y"}, []int{2, 4}, 1},
		{"whitespace-only line is blank", []string{"id,type,email", "   ", "A,access,a@x.io"}, []int{3}, 1},
	}
	for _, tt := range tests {
		for _, eol := range []string{"\n", "\r\n"} {
			t.Run(tt.name+"/"+map[string]string{"\n": "LF", "\r\n": "CRLF"}[eol], func(t *testing.T) {
				path := writeFile(t, t.TempDir()+"/m.csv", []byte(strings.Join(tt.lines, eol)+eol))
				info, rows := mustRead(t, path, Options{})
				var got []int
				for _, r := range rows {
					got = append(got, r.Source.Row)
					if r.Reject != nil {
						t.Errorf("row %d rejected: %s", r.Source.Row, r.Reject.Reason)
					}
				}
				if !slices.Equal(got, tt.rows) || info.Blank != tt.blank {
					t.Errorf("rows %v, blank %d; want %v, %d", got, info.Blank, tt.rows, tt.blank)
				}
			})
		}
	}
}

func TestReadCSVDelimiterSniffing(t *testing.T) {
	tests := []struct {
		name, header, row string
	}{
		{"comma", "id,type,email", "A,access,a@x.io"},
		{"semicolon", "id;type;email", "A;access;a@x.io"},
		{"tab", "id\ttype\temail", "A\taccess\ta@x.io"},
		{"semicolon with comma in a quoted header", `id;"Request, Type";email`, "A;access;a@x.io"},
		{"comma with semicolon in a quoted header", `id,"Request; Type",email`, "A,access,a@x.io"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir()+"/m.txt", []byte(tt.header+"\n"+tt.row+"\n"))
			_, rows := mustRead(t, path, Options{})
			if len(rows) != 1 || rows[0].Request == nil || rows[0].Request.Email != "a@x.io" {
				t.Fatalf("rows = %+v; want one request for a@x.io", rows)
			}
		})
	}
}

func TestReadCSVStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	_, err := Read(t.Context(), fixture("messy.csv"), Options{}, func(Row) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if err != stop || n != 3 {
		t.Errorf("err, calls = %v, %d; want the callback's own error after 3 calls", err, n)
	}
}

func TestReadCSVCancelled(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,type,email\n")
	for i := range 5000 {
		b.WriteString("R-" + strconv.Itoa(i) + ",access,a@x.io\n")
	}
	path := writeFile(t, t.TempDir()+"/m.csv", []byte(b.String()))
	ctx, cancel := context.WithCancel(t.Context())
	n := 0
	_, err := Read(ctx, path, Options{}, func(Row) error {
		if n++; n == 10 {
			cancel()
		}
		return nil
	})
	var fe *FileError
	if !errors.Is(err, context.Canceled) || errors.As(err, &fe) || n >= 5000 {
		t.Errorf("err = %v after %d rows; want context.Canceled (not a FileError), early", err, n)
	}
}
