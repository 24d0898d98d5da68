package manifest

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mt "github.com/ctdsr/ctdsr/batch/manifest/manifesttest"
)

func TestReadParquet(t *testing.T) {
	sub := time.Date(2024, 1, 5, 9, 0, 0, 0, time.UTC)
	due := time.Date(2024, 1, 20, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		cols    []mt.Column
		rows    [][]any
		outcome map[int]string
		unknown []string
	}{
		{
			name: "typed columns, aliases and two row groups",
			cols: []mt.Column{{Name: "Ticket ID", Node: mt.String}, {Name: "Request Type", Node: mt.String},
				{Name: "E-mail", Node: mt.String}, {Name: "Identity", Node: mt.Int64},
				{Name: "Received At", Node: mt.TimestampUS}, {Name: "Deadline", Node: mt.Date}, {Name: "payload", Node: mt.String}},
			rows: [][]any{
				{"P-1", "access", "P1@Example.com", nil, sub, nil, "{}"},
				{"P-2", "Right to be forgotten", nil, 777, nil, due, nil},
				{nil, "access", "p3@example.com", nil, nil, nil, nil},
				{"P-4", "access", "p4@example.com", nil, sub, due.AddDate(0, 0, -30), nil},
				{"P-1", "access", "p1@example.com", nil, sub, nil, "again"},
			},
			unknown: []string{"payload"},
			outcome: map[int]string{
				2: "P-1 access email=p1@example.com sub=2024-01-05T09:00:00Z due=2024-02-04T09:00:00Z",
				3: "P-2 deletion user=777 due=2024-01-20T00:00:00Z",
				4: "reject  [request_id]: missing request id",
				5: "reject P-4 [due_at]: due date is before the submission date",
				6: "merge P-1 into row 2",
			},
		},
		{
			name: "INT96 and millisecond timestamps",
			cols: []mt.Column{{Name: "id", Node: mt.String}, {Name: "type", Node: mt.String},
				{Name: "email", Node: mt.String}, {Name: "submitted_at", Node: mt.Int96}, {Name: "due", Node: mt.TimestampMS}},
			rows: [][]any{
				{"Q-1", "erasure", "q@example.com", sub.Add(1500 * time.Millisecond), due.Add(250 * time.Millisecond)},
			},
			outcome: map[int]string{
				2: "Q-1 deletion email=q@example.com sub=2024-01-05T09:00:01Z due=2024-01-20T00:00:00Z",
			},
		},
		{
			name: "dates as strings",
			cols: []mt.Column{{Name: "id", Node: mt.String}, {Name: "type", Node: mt.String},
				{Name: "uid", Node: mt.String}, {Name: "date", Node: mt.String}, {Name: "due_at", Node: mt.String}},
			rows: [][]any{
				{"S-1", "export", "u-1", "2024-01-05", "2024-01-06T12:00:00Z"},
				{"S-2", "export", "u-2", "05/01/2024", nil},
			},
			outcome: map[int]string{
				2: "S-1 access user=u-1 sub=2024-01-05T00:00:00Z due=2024-01-06T12:00:00Z",
				3: `reject S-2 [submitted_at]: cannot read "05/01/2024" as a date; use YYYY-MM-DD or ISO 8601 such as 2024-01-31T09:00:00Z`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := mustWriteParquet(t, filepath.Join(t.TempDir(), "m.parquet"), tt.cols, tt.rows, 2)
			info, rows := mustRead(t, path, Options{})
			if d := diffOutcomes(outcomes(rows), tt.outcome); d != "" {
				t.Errorf("outcomes differ:\n%s", d)
			}
			if info.Format != Parquet || info.SHA256 != fileSHA256(t, path) {
				t.Errorf("Format, SHA256 = %q, %s; want parquet and the file's digest", info.Format, info.SHA256)
			}
			if strings.Join(info.UnknownColumns, ",") != strings.Join(tt.unknown, ",") {
				t.Errorf("UnknownColumns = %q, want %q", info.UnknownColumns, tt.unknown)
			}
		})
	}
}

// TestReadParquetManyRowGroups crosses row-group and batch boundaries and
// checks that every row keeps its number and content.
func TestReadParquetManyRowGroups(t *testing.T) {
	const n = 5000
	cols := []mt.Column{{Name: "id", Node: mt.String}, {Name: "type", Node: mt.String}, {Name: "email", Node: mt.String}}
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{fmt.Sprintf("R-%d", i), "access", fmt.Sprintf("u%d@example.com", i)}
	}
	path := mustWriteParquet(t, filepath.Join(t.TempDir(), "m.parquet"), cols, rows, 777)
	info, got := mustRead(t, path, Options{})
	if info.Accepted != n {
		t.Fatalf("Accepted = %d, want %d", info.Accepted, n)
	}
	for i, r := range got {
		if r.Source.Row != i+2 || r.Request.ID != fmt.Sprintf("R-%d", i) || r.Request.Email != fmt.Sprintf("u%d@example.com", i) {
			t.Fatalf("record %d = row %d %s %s; want row %d R-%d u%d@example.com", i, r.Source.Row, r.Request.ID, r.Request.Email, i+2, i, i)
		}
	}
}

func TestReadParquetUnreadable(t *testing.T) {
	id, typ, email := mt.Column{Name: "id", Node: mt.String}, mt.Column{Name: "type", Node: mt.String}, mt.Column{Name: "email", Node: mt.String}
	tests := []struct {
		name string
		cols []mt.Column
		rows [][]any
		err  error
		msg  string
	}{
		{"email as double", []mt.Column{id, typ, {Name: "email", Node: mt.Double}}, [][]any{{"R-1", "access", 1.5}},
			ErrColumnType, "column email: column has the wrong type: email holds DOUBLE; want a string"},
		{"id as double", []mt.Column{{Name: "id", Node: mt.Double}, typ, email}, [][]any{{1.0, "access", "a@x.io"}},
			ErrColumnType, "column id: column has the wrong type: request_id holds DOUBLE; want a string or an integer"},
		{"date as plain integer", []mt.Column{id, typ, email, {Name: "submitted_at", Node: mt.Int64}}, [][]any{{"R-1", "access", "a@x.io", 20240105}},
			ErrColumnType, "submitted_at holds INT(64,true); want a string, TIMESTAMP or DATE"},
		{"email as a list", []mt.Column{id, typ, {Name: "email", Node: mt.StringList}}, [][]any{{"R-1", "access", nil}},
			ErrColumnType, "email holds a group of columns; want a string"},
		{"missing type", []mt.Column{id, email}, [][]any{{"R-1", "a@x.io"}},
			ErrMissingColumn, `missing required column request_type (found: "email", "id")`},
		{"no rows", []mt.Column{id, typ, email}, nil, ErrNoRows, "no data rows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := mustWriteParquet(t, filepath.Join(t.TempDir(), "m.parquet"), tt.cols, tt.rows, 0)
			_, _, err := readAll(t, path, Options{})
			var fe *FileError
			if !errors.As(err, &fe) || !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v; want a FileError wrapping %v containing %q", err, tt.err, tt.msg)
			}
		})
	}
}

// TestReadParquetCorrupt damages a valid file byte by byte: every outcome
// must be rows or a FileError, never a panic or another error.
func TestReadParquetCorrupt(t *testing.T) {
	dir := t.TempDir()
	cols := []mt.Column{{Name: "id", Node: mt.String}, {Name: "type", Node: mt.String},
		{Name: "email", Node: mt.String}, {Name: "due", Node: mt.TimestampUS}}
	rows := [][]any{{"R-1", "access", "a@x.io", time.Date(2024, 1, 5, 9, 0, 0, 0, time.UTC)}, {"R-2", "deletion", "b@x.io", nil}}
	good := mustReadFile(t, mustWriteParquet(t, filepath.Join(dir, "good.parquet"), cols, rows, 0))
	failures := 0
	for i := 4; i < len(good)-4; i++ {
		bad := append([]byte(nil), good...)
		bad[i] ^= 0xff
		path := writeFile(t, filepath.Join(dir, "bad.parquet"), bad)
		info, got, err := readAll(t, path, Options{})
		var fe *FileError
		switch {
		case err == nil:
			checkInvariants(t, info, got)
		case errors.As(err, &fe):
			failures++
		default:
			t.Fatalf("byte %d flipped: err = %v (%T); want nil or a *FileError", i, err, err)
		}
	}
	if failures == 0 {
		t.Errorf("no corruption of %d bytes was detected; want some FileErrors", len(good)-8)
	}
}
