package report

import (
	"context"
	"encoding/json"
	"fmt"
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
}

// WriteRun writes every Parquet report of run runID into dir (created 0700),
// each file atomically. now and dueSoon classify open requests' due dates;
// open reports whether a request status is not final.
func WriteRun(ctx context.Context, dir string, src Source, runID string, now time.Time, dueSoon time.Duration, open func(typ, status string) bool) (Totals, error) {
	t := Totals{ByStatus: map[string]map[string]int{}}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return t, fmt.Errorf("create output directory: %w", err)
	}
	err := writeFile(ctx, filepath.Join(dir, RequestsFile), runID, src.ReportRequests, func(r RequestRow) {
		t.Requests++
		if t.ByStatus[r.RequestType] == nil {
			t.ByStatus[r.RequestType] = map[string]int{}
		}
		t.ByStatus[r.RequestType][r.Status]++
		if r.DueAt != nil && open(r.RequestType, r.Status) {
			switch {
			case r.DueAt.Before(now):
				t.Overdue++
			case r.DueAt.Before(now.Add(dueSoon)):
				t.DueSoon++
			}
		}
	})
	if err != nil {
		return t, err
	}
	if err := writeFile(ctx, filepath.Join(dir, ProfilesFile), runID, src.ReportProfiles, func(ProfileRow) { t.Profiles++ }); err != nil {
		return t, err
	}
	if err := writeFile(ctx, filepath.Join(dir, EventsFile), runID, src.ReportEvents, func(EventRow) { t.Events++ }); err != nil {
		return t, err
	}
	if err := writeFile(ctx, filepath.Join(dir, DeletionsFile), runID, src.ReportDeletions, func(DeletionRow) {}); err != nil {
		return t, err
	}
	if err := writeFile(ctx, filepath.Join(dir, RejectsFile), runID, src.ReportRejects, func(RejectRow) { t.Rejects++ }); err != nil {
		return t, err
	}
	return t, nil
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
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp") // mode 0600
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return publish(tmp, path, step{"write", func() error {
		_, err := tmp.Write(append(b, '\n'))
		return err
	}})
}
