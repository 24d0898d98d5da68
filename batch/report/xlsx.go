package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/xuri/excelize/v2"
)

// MaxSheetRows is how many data rows one sheet holds: Excel's 1,048,576
// rows less the header. Further rows continue on a new sheet.
const MaxSheetRows = excelize.TotalRows - 1

// ErrWorkbookOrder is returned (wrapped) by a Workbook's Add methods when
// rows come out of order: all requests, then all deletions, then all
// rejects.
var ErrWorkbookOrder = errors.New("workbook rows out of order: add requests, then deletions, then rejects")

// SummaryItem is one label/value row of the Summary sheet. Value is a
// string, an integer, a float, a bool, a time.Time (shown in UTC) or nil.
type SummaryItem struct {
	Label string
	Value any
}

// The sections of a workbook, in the order their rows must be added.
const (
	secRequests = iota
	secDeletions
	secRejects
	numSections
)

// section is one kind of row and the sheets it fills.
type section struct {
	name   string
	cols   []column
	sheets []string               // sheets started so far, in order
	sw     *excelize.StreamWriter // the sheet being written, nil if none
	rows   int                    // data rows on that sheet
	total  int64                  // data rows on all its sheets
}

// Workbook streams report.xlsx for people: a Summary sheet, then
// Requests, Deletions and Rejects, one row per report row, with typed
// columns (dates as UTC dates, counts as numbers, booleans as TRUE/FALSE),
// a bold frozen header with an autofilter, and set column widths. Strings
// are always text, never formulas. Memory stays bounded whatever the row
// count: excelize spills each sheet to a temporary file past 16 MiB.
//
// Add rows section by section: every request, then every deletion, then
// every reject; an Add for an earlier section than the last one returns
// ErrWorkbookOrder. Starting a section finishes the ones before it, so a
// section with no rows still gets its sheet, holding only the header.
// When a section has more than MaxSheetRows rows it continues on
// "Requests (2)" and so on, and the Summary says so.
//
// The file appears at its path only when Close succeeds; Abort discards
// it. A Workbook is not safe for concurrent use.
type Workbook struct {
	path     string
	spill    string // private directory for excelize's temporary files
	f        *excelize.File
	st       styles
	summary  []SummaryItem
	sections [numSections]*section
	cur      int // the section being written; numSections once all are finished
	rowLimit int // MaxSheetRows; lowered by tests
	err      error
	done     bool
}

// CreateWorkbook starts a workbook at path, conventionally
// filepath.Join(dir, WorkbookFile); dir must exist. Sheets are streamed,
// and the workbook assembled, in a private directory next to path
// (".report.xlsx.*.tmp", mode 0700), which Close and Abort remove. The
// caller must Close or Abort the workbook.
func CreateWorkbook(path string) (*Workbook, error) {
	spill, err := os.MkdirTemp(filepath.Dir(path), tempPattern(path))
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	w := &Workbook{path: path, spill: spill, rowLimit: MaxSheetRows,
		f: excelize.NewFile(excelize.Options{TmpDir: spill})}
	w.sections = [numSections]*section{
		{name: RequestsSheet, cols: requestColumns},
		{name: DeletionsSheet, cols: deletionColumns},
		{name: RejectsSheet, cols: rejectColumns},
	}
	if err := w.start(); err != nil {
		w.Abort()
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return w, nil
}

// start names the first sheet Summary (it is written last, by Close, but
// stays first) and registers the styles.
func (w *Workbook) start() error {
	if err := w.f.SetSheetName(w.f.GetSheetName(0), SummarySheet); err != nil {
		return fmt.Errorf("name the summary sheet: %w", err)
	}
	var err error
	w.st, err = newStyles(w.f)
	return err
}

// Path is where the workbook appears on Close.
func (w *Workbook) Path() string { return w.path }

// SetSummary sets the caller's rows of the Summary sheet, which Close
// writes; it may be called at any time before Close. The workbook adds
// its own rows after them: the row count of each section, the sheets a
// section continues on, and that times are UTC. A Value of an unsupported
// type is an error and leaves the previous summary in place.
func (w *Workbook) SetSummary(items []SummaryItem) error {
	if err := w.usable(); err != nil {
		return err
	}
	for _, it := range items {
		if _, err := w.st.cellOf(it.Value); err != nil {
			return fmt.Errorf("summary %q: %w", it.Label, err)
		}
	}
	w.summary = append([]SummaryItem(nil), items...)
	return nil
}

// AddRequest appends a row to the Requests sheet.
func (w *Workbook) AddRequest(r RequestRow) error {
	return w.add(secRequests, requestCells(r))
}

// AddDeletion appends a row to the Deletions sheet. It finishes the
// Requests sheet; no request can be added after it.
func (w *Workbook) AddDeletion(r DeletionRow) error {
	return w.add(secDeletions, deletionCells(r))
}

// AddReject appends a row to the Rejects sheet. It finishes the Requests
// and Deletions sheets; no request or deletion can be added after it.
func (w *Workbook) AddReject(r RejectRow) error {
	return w.add(secRejects, rejectCells(r))
}

// Rows is the number of data rows added to each section so far.
func (w *Workbook) Rows() (requests, deletions, rejects int64) {
	return w.sections[secRequests].total, w.sections[secDeletions].total, w.sections[secRejects].total
}

func (w *Workbook) usable() error {
	switch {
	case w.err != nil:
		return w.err
	case w.done:
		return fmt.Errorf("write %s: workbook already closed", w.path)
	}
	return nil
}

// fail makes err sticky: after it, only Abort is useful.
func (w *Workbook) fail(err error) error {
	w.err = fmt.Errorf("write %s: %w", w.path, err)
	return w.err
}

func (w *Workbook) add(sec int, vals []any) error {
	if err := w.usable(); err != nil {
		return err
	}
	s := w.sections[sec]
	if sec < w.cur {
		// Not sticky: the workbook is intact and can still be closed.
		return fmt.Errorf("write %s: %s row after %s: %w", w.path, s.name, w.sections[w.cur].name, ErrWorkbookOrder)
	}
	if err := w.finishBefore(sec); err != nil {
		return w.fail(err)
	}
	row, err := w.st.cells(vals)
	if err != nil {
		return w.fail(fmt.Errorf("%s row %d: %w", s.name, s.total+1, err))
	}
	if s.sw == nil || s.rows == w.rowLimit {
		if err := w.nextSheet(s); err != nil {
			return w.fail(err)
		}
	}
	cell, err := excelize.CoordinatesToCellName(1, s.rows+2) // row 1 is the header
	if err == nil {
		err = s.sw.SetRow(cell, row)
	}
	if err != nil {
		return w.fail(fmt.Errorf("%s sheet %q row %d: %w", s.name, s.sw.Sheet, s.rows+2, err))
	}
	s.rows++
	s.total++
	return nil
}

// finishBefore finishes every section before sec that is not finished yet.
func (w *Workbook) finishBefore(sec int) error {
	for ; w.cur < sec; w.cur++ {
		if err := w.finishSection(w.sections[w.cur]); err != nil {
			return err
		}
	}
	return nil
}

// finishSection finishes the sheet being written, or, for a section with
// no rows, writes its header-only sheet.
func (w *Workbook) finishSection(s *section) error {
	if len(s.sheets) == 0 {
		if err := w.nextSheet(s); err != nil {
			return err
		}
	}
	if s.sw == nil {
		return nil
	}
	return w.finishSheet(s)
}

// nextSheet finishes the section's current sheet, if any, and starts the
// next one: width, frozen header and header row, all of which excelize's
// StreamWriter accepts only before the first row.
func (w *Workbook) nextSheet(s *section) error {
	if s.sw != nil {
		if err := w.finishSheet(s); err != nil {
			return err
		}
	}
	name := s.name
	if n := len(s.sheets); n > 0 {
		name = fmt.Sprintf("%s (%d)", s.name, n+1)
	}
	if _, err := w.f.NewSheet(name); err != nil {
		return fmt.Errorf("add sheet %q: %w", name, err)
	}
	sw, err := w.startSheet(name, s.cols, true)
	if err != nil {
		return err
	}
	s.sheets = append(s.sheets, name)
	s.sw, s.rows = sw, 0
	return nil
}

// startSheet opens a stream on the sheet name and writes its header row.
func (w *Workbook) startSheet(name string, cols []column, freeze bool) (*excelize.StreamWriter, error) {
	sw, err := w.f.NewStreamWriter(name)
	if err != nil {
		return nil, fmt.Errorf("stream sheet %q: %w", name, err)
	}
	for i, c := range cols {
		if err := sw.SetColWidth(i+1, i+1, c.width); err != nil {
			return nil, fmt.Errorf("sheet %q: width of %s: %w", name, c.header, err)
		}
	}
	if freeze {
		err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
			Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}})
		if err != nil {
			return nil, fmt.Errorf("sheet %q: freeze the header: %w", name, err)
		}
	}
	if err := sw.SetRow("A1", w.st.headerCells(cols)); err != nil {
		return nil, fmt.Errorf("sheet %q: header: %w", name, err)
	}
	return sw, nil
}

// finishSheet puts the autofilter over the header and the rows written,
// then ends the sheet's stream. StreamWriter has no autofilter of its own:
// File.AutoFilter sets it on the worksheet the stream holds, which Flush
// writes out, so it must come after the last row and before Flush. It
// also records the sheet's position (the hidden _FilterDatabase name),
// which is why sheets are never reordered.
func (w *Workbook) finishSheet(s *section) error {
	name := s.sw.Sheet
	last, err := excelize.CoordinatesToCellName(len(s.cols), s.rows+1)
	if err != nil {
		return fmt.Errorf("sheet %q: %w", name, err)
	}
	if err := w.f.AutoFilter(name, "A1:"+last, nil); err != nil {
		return fmt.Errorf("sheet %q: autofilter: %w", name, err)
	}
	if err := s.sw.Flush(); err != nil {
		return fmt.Errorf("sheet %q: finish: %w", name, err)
	}
	s.sw = nil
	return nil
}

// Close finishes every sheet, writes the Summary, and publishes the
// workbook atomically (mode 0600). On any failure nothing appears at the
// path and the previous file, if any, is left untouched. Close after
// Close returns the first result.
func (w *Workbook) Close() error {
	if w.done {
		return w.err
	}
	if w.err != nil {
		w.Abort()
		return w.err
	}
	if err := w.finishBefore(numSections); err != nil {
		w.fail(err)
		w.Abort()
		return w.err
	}
	if err := w.writeSummary(); err != nil {
		w.fail(err)
		w.Abort()
		return w.err
	}
	w.done = true
	w.err = w.save()
	if err := w.cleanUp(); err != nil && w.err == nil {
		w.err = err
	}
	return w.err
}

// writeSummary writes the caller's items and the workbook's own.
func (w *Workbook) writeSummary() error {
	items := append(w.summary[:len(w.summary):len(w.summary)], w.ownSummary()...)
	sw, err := w.startSheet(SummarySheet, summaryColumns, false)
	if err != nil {
		return err
	}
	for i, it := range items {
		row, err := w.st.cells([]any{it.Label, it.Value})
		if err != nil {
			return fmt.Errorf("summary %q: %w", it.Label, err)
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, row); err != nil {
			return fmt.Errorf("summary %q: %w", it.Label, err)
		}
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("sheet %q: finish: %w", SummarySheet, err)
	}
	return nil
}

// ownSummary describes the sheets: rows per section and, when a section
// did not fit on one sheet, where it continues.
func (w *Workbook) ownSummary() []SummaryItem {
	var items []SummaryItem
	for _, s := range w.sections {
		items = append(items, SummaryItem{s.name + " rows", s.total})
		if len(s.sheets) > 1 {
			items = append(items, SummaryItem{s.name + " continues on",
				fmt.Sprintf("%s (a sheet holds at most %d rows under its header)",
					strings.Join(s.sheets[1:], ", "), w.rowLimit)})
		}
	}
	return append(items, SummaryItem{"Times", "All dates and times in this workbook are UTC."})
}

// save writes the archive onto a temporary file in the private directory
// (on the target's file system, so the rename is atomic) and publishes it.
func (w *Workbook) save() error {
	tmp, err := os.CreateTemp(w.spill, "workbook-*.xlsx") // mode 0600
	if err != nil {
		return fmt.Errorf("create %s: %w", w.path, err)
	}
	buf := bufio.NewWriterSize(tmp, 1<<20)
	z := newFileZip(tmp, buf)
	w.f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return z })
	return publish(tmp, w.path,
		step{"write", func() error { return w.f.Write(io.Discard) }}, // goes to z, see fileZip
		step{"flush", buf.Flush},
		step{"finish ZIP64 headers", z.patchZip64},
	)
}

// Abort discards the workbook and its temporary files. It is safe to call
// after Close, when it does nothing, and more than once.
func (w *Workbook) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	if w.err == nil {
		w.err = errors.New("workbook aborted")
	}
	return w.cleanUp()
}

// cleanUp closes excelize's temporary files and removes the private
// directory they live in.
func (w *Workbook) cleanUp() error {
	err := w.f.Close()
	if rmErr := os.RemoveAll(w.spill); rmErr != nil && err == nil {
		err = rmErr
	}
	if err != nil {
		return fmt.Errorf("clean up after %s: %w", w.path, err)
	}
	return nil
}
