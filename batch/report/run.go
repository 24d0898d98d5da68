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

// Source renders a run's report rows, in a stable order, from the ledger.
// Because the reports come from the ledger and not from memory, a resumed
// run writes the same files as an uninterrupted one.
type Source interface {
	ReportRequests(ctx context.Context, runID string, fn func(RequestRow) error) error
	ReportProfiles(ctx context.Context, runID string, fn func(ProfileRow) error) error
	ReportEvents(ctx context.Context, runID string, fn func(EventRow) error) error
	ReportDeletions(ctx context.Context, runID string, fn func(DeletionRow) error) error
	ReportRejects(ctx context.Context, runID string, fn func(RejectRow) error) error
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

	now     time.Time
	dueSoon time.Duration
}

// file is one report of an output directory: its name and how it is
// rendered from a Source, counting into Totals as it goes.
type file struct {
	name   string
	render func(ctx context.Context, path string, src Source, runID string, t *Totals) error
}

// files is the registry of a run's Parquet reports, in the order WriteRun
// writes them. Adding a report is a row here (and its row type and Source
// method); the summary lists Files().
var files = []file{
	{RequestsFile, func(ctx context.Context, path string, src Source, runID string, t *Totals) error {
		return writeFile(ctx, path, runID, src.ReportRequests, t.countRequest)
	}},
	{ProfilesFile, func(ctx context.Context, path string, src Source, runID string, t *Totals) error {
		return writeFile(ctx, path, runID, src.ReportProfiles, func(ProfileRow) { t.Profiles++ })
	}},
	{EventsFile, func(ctx context.Context, path string, src Source, runID string, t *Totals) error {
		return writeFile(ctx, path, runID, src.ReportEvents, func(EventRow) { t.Events++ })
	}},
	{DeletionsFile, func(ctx context.Context, path string, src Source, runID string, t *Totals) error {
		return writeFile(ctx, path, runID, src.ReportDeletions, func(DeletionRow) {})
	}},
	{RejectsFile, func(ctx context.Context, path string, src Source, runID string, t *Totals) error {
		return writeFile(ctx, path, runID, src.ReportRejects, func(RejectRow) { t.Rejects++ })
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

// WriteRun writes every Parquet report of run runID into dir (created 0700),
// each file atomically. now and dueSoon classify open requests' due dates:
// a request is open while it has no completion time.
func WriteRun(ctx context.Context, dir string, src Source, runID string, now time.Time, dueSoon time.Duration) (Totals, error) {
	t := Totals{ByStatus: map[string]map[string]int{}, now: now, dueSoon: dueSoon}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return t, fmt.Errorf("create output directory: %w", err)
	}
	for _, f := range files {
		if err := f.render(ctx, filepath.Join(dir, f.name), src, runID, &t); err != nil {
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
func writeFile[T any](ctx context.Context, path, runID string, rows func(context.Context, string, func(T) error) error, count func(T)) error {
	w, err := Create[T](path)
	if err != nil {
		return err
	}
	const chunk = 1024
	buf := make([]T, 0, chunk)
	err = rows(ctx, runID, func(r T) error {
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
