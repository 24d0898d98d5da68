package report

import (
	"context"
	"encoding/json"
	"errors"
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
	DueSoon  int                       `json:"due_soon"`        // open requests due within dueSoon
	Overdue  int                       `json:"overdue"`         // open requests past due
	Late     int                       `json:"late"`            // completed after their due date, or open past it
	Packages int                       `json:"access_packages"` // per-subject access packages in access/

	now     time.Time
	dueSoon time.Duration
}

// file is one Parquet report of an output directory: its name and how it
// is rendered from a Source, counting into Totals and feeding the
// workbook as it goes.
type file struct {
	name   string
	render func(r *rendering, path string) error
}

// rendering is one Write in progress.
type rendering struct {
	ctx context.Context
	src Source
	sel Selection
	t   *Totals
	wb  *Workbook
}

// files is the registry of an output directory's Parquet reports, in the
// order Write writes them (the workbook's sheets need requests, then
// deletions, then rejects). Adding a report is a row here, its row type and
// its Source method; the summary lists Files().
var files = []file{
	{RequestsFile, func(r *rendering, path string) error {
		return writeFile(r.ctx, path, r.sel, r.src.ReportRequests, func(row RequestRow) error {
			r.t.countRequest(row)
			return r.wb.AddRequest(row)
		})
	}},
	{ProfilesFile, func(r *rendering, path string) error {
		return writeFile(r.ctx, path, r.sel, r.src.ReportProfiles, func(ProfileRow) error { r.t.Profiles++; return nil })
	}},
	{EventsFile, func(r *rendering, path string) error {
		return writeFile(r.ctx, path, r.sel, r.src.ReportEvents, func(EventRow) error { r.t.Events++; return nil })
	}},
	{DeletionsFile, func(r *rendering, path string) error {
		return writeFile(r.ctx, path, r.sel, r.src.ReportDeletions, r.wb.AddDeletion)
	}},
	{RejectsFile, func(r *rendering, path string) error {
		return writeFile(r.ctx, path, r.sel, r.src.ReportRejects, func(row RejectRow) error {
			r.t.Rejects++
			return r.wb.AddReject(row)
		})
	}},
}

// Files lists the names of every file an output directory receives: the
// Parquet reports in the order they are written, the workbook, the
// checksums of the access packages, then summary.json.
func Files() []string {
	names := make([]string, 0, len(files)+3)
	for _, f := range files {
		names = append(names, f.name)
	}
	return append(names, WorkbookFile, PackagesDir+"/"+PackageSumsFile, SummaryFile)
}

// Options tune Write.
type Options struct {
	// DueSoon: an open request due within this long of the selection's
	// time is "due soon".
	DueSoon time.Duration
	// Zone is the account's timezone, in which the access packages show
	// event times beside UTC.
	Zone *time.Location
	// Summary gives the workbook's Summary sheet rows once the totals are
	// known; nil leaves only the workbook's own rows.
	Summary func(Totals) []SummaryItem
}

// Write renders every report of a selection into dir (created 0700): the
// Parquet files and the workbook in one pass over the ledger, each file
// atomically, then an access package for every finished access request
// selected, rendered afresh from the ledger, and their checksums; access/
// is left holding exactly those packages (see writePackages). It first
// removes what a killed write left behind. A request is open while it has no
// completion time.
func Write(ctx context.Context, dir string, src Source, sel Selection, opts Options) (Totals, error) {
	t := Totals{ByStatus: map[string]map[string]int{}, now: sel.Now, dueSoon: opts.DueSoon}
	if err := sel.Validate(); err != nil {
		return t, err
	}
	if opts.Zone == nil {
		return t, errors.New("report: no account timezone (Options.Zone)")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return t, fmt.Errorf("create output directory: %w", err)
	}
	if err := RemoveLeftovers(dir); err != nil {
		return t, err
	}
	wb, err := CreateWorkbook(filepath.Join(dir, WorkbookFile))
	if err != nil {
		return t, err
	}
	r := &rendering{ctx: ctx, src: src, sel: sel, t: &t, wb: wb}
	for _, f := range files {
		if err := f.render(r, filepath.Join(dir, f.name)); err != nil {
			wb.Abort()
			return t, err
		}
	}
	if opts.Summary != nil {
		if err := wb.SetSummary(opts.Summary(t)); err != nil {
			wb.Abort()
			return t, err
		}
	}
	if err := wb.Close(); err != nil {
		return t, err
	}
	n, err := writePackages(ctx, filepath.Join(dir, PackagesDir), src, sel, opts.Zone)
	t.Packages = n
	return t, err
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
func writeFile[T any](ctx context.Context, path string, sel Selection, rows func(context.Context, Selection, func(T) error) error, count func(T) error) error {
	w, err := Create[T](path)
	if err != nil {
		return err
	}
	const chunk = 1024
	buf := make([]T, 0, chunk)
	err = rows(ctx, sel, func(r T) error {
		if err := count(r); err != nil {
			return err
		}
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
