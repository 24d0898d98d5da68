package report

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// The files of a run's output directory.
const (
	RequestsFile  = "requests.parquet"
	ProfilesFile  = "access_profiles.parquet"
	EventsFile    = "access_events.parquet"
	DeletionsFile = "deletion_report.parquet"
	SummaryFile   = "summary.json"
	WorkbookFile  = "report.xlsx" // the workbook for people
	PackagesDir   = "access"      // per-subject access packages, <request>.zip
)

// Source renders the report rows of a selection, in a stable order, from
// the ledger. Because the reports come from the ledger and not from memory,
// a resumed run writes the same files as an uninterrupted one, and a run
// with nothing to do writes the same files as the run before it.
type Source interface {
	ReportRequests(ctx context.Context, sel Selection, fn func(RequestRow) error) error
	ReportProfiles(ctx context.Context, sel Selection, fn func(ProfileRow) error) error
	ReportEvents(ctx context.Context, sel Selection, fn func(EventRow) error) error
	ReportDeletions(ctx context.Context, sel Selection, fn func(DeletionRow) error) error
	ReportRejects(ctx context.Context, sel Selection, fn func(RejectRow) error) error
}

// Totals counts what WriteRun wrote.
type Totals struct {
	ByStatus map[string]map[string]int `json:"by_status"` // request type → status → count
	Requests int                       `json:"requests"`
	Profiles int64                     `json:"profiles"`
	Events   int64                     `json:"events"`
	Rejects  int64                     `json:"rejects"`
	DueSoon  int                       `json:"due_soon"` // open requests due within dueSoon
	Overdue  int                       `json:"overdue"`  // open requests past due
	Late     int                       `json:"late"`     // completed after their due date, or open past it

	now     time.Time
	dueSoon time.Duration
}

// file is one report of an output directory: its name and how it is
// rendered from a Source, counting into Totals as it goes.
type file struct {
	name   string
	render func(ctx context.Context, path string, src Source, sel Selection, t *Totals) error
}

// files is the registry of a run's Parquet reports, in the order WriteRun
// writes them. Adding a report is a row here (and its row type and Source
// method); the summary lists Files().
var files = []file{
	{RequestsFile, func(ctx context.Context, path string, src Source, sel Selection, t *Totals) error {
		return writeFile(ctx, path, sel, src.ReportRequests, t.countRequest)
	}},
	{ProfilesFile, func(ctx context.Context, path string, src Source, sel Selection, t *Totals) error {
		return writeFile(ctx, path, sel, src.ReportProfiles, func(ProfileRow) { t.Profiles++ })
	}},
	{EventsFile, func(ctx context.Context, path string, src Source, sel Selection, t *Totals) error {
		return writeFile(ctx, path, sel, src.ReportEvents, func(EventRow) { t.Events++ })
	}},
	{DeletionsFile, func(ctx context.Context, path string, src Source, sel Selection, t *Totals) error {
		return writeFile(ctx, path, sel, src.ReportDeletions, func(DeletionRow) {})
	}},
	{RejectsFile, func(ctx context.Context, path string, src Source, sel Selection, t *Totals) error {
		return writeFile(ctx, path, sel, src.ReportRejects, func(RejectRow) { t.Rejects++ })
	}},
}

// Files lists the names of every file an output directory receives:
// the Parquet reports in the order they are written, then summary.json.
func Files() []string {
	names := make([]string, 0, len(files)+1)
	for _, f := range files {
		names = append(names, f.name)
	}
	return append(names, SummaryFile)
}

// Write renders every Parquet report of a selection into dir (created
// 0700), each file atomically, after removing what a killed write left
// behind. dueSoon classifies open requests' due dates against sel.Now: a
// request is open while it has no completion time.
func Write(ctx context.Context, dir string, src Source, sel Selection, dueSoon time.Duration) (Totals, error) {
	t := Totals{ByStatus: map[string]map[string]int{}, now: sel.Now, dueSoon: dueSoon}
	if err := sel.Validate(); err != nil {
		return t, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return t, fmt.Errorf("create output directory: %w", err)
	}
	if err := RemoveLeftovers(dir); err != nil {
		return t, err
	}
	for _, f := range files {
		if err := f.render(ctx, filepath.Join(dir, f.name), src, sel, &t); err != nil {
			return t, err
		}
	}
	return t, nil
}

// countRequest counts one requests.parquet row.
func (t *Totals) countRequest(r RequestRow) {
	t.Requests++
	if t.ByStatus[r.RequestType] == nil {
		t.ByStatus[r.RequestType] = map[string]int{}
	}
	t.ByStatus[r.RequestType][r.Status]++
	if r.Late {
		t.Late++
	}
	if r.DueAt == nil || r.CompletedAt != nil {
		return
	}
	switch {
	case r.DueAt.Before(t.now):
		t.Overdue++
	case r.DueAt.Before(t.now.Add(t.dueSoon)):
		t.DueSoon++
	}
}

// writeFile streams one report from the ledger into one atomic file.
func writeFile[T any](ctx context.Context, path string, sel Selection, rows func(context.Context, Selection, func(T) error) error, count func(T)) error {
	w, err := Create[T](path)
	if err != nil {
		return err
	}
	const chunk = 1024
	buf := make([]T, 0, chunk)
	err = rows(ctx, sel, func(r T) error {
		count(r)
		buf = append(buf, r)
		if len(buf) == chunk {
			err := w.Write(buf...)
			buf = buf[:0]
			return err
		}
		return nil
	})
	if err == nil && len(buf) > 0 {
		err = w.Write(buf...)
	}
	if err != nil {
		w.Abort()
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return w.Close()
}

// WriteJSON writes v as indented JSON to path atomically, owner-only.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	return writeAtomic(path, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}
