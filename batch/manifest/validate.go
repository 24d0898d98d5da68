package manifest

import (
	"errors"
	"fmt"
	"time"

	"github.com/ctdsr/ctdsr/batch"
)

// cell is one cell of a record as a reader found it: text, or a time when
// the file typed it as a date (Parquet DATE, TIMESTAMP, INT96).
type cell struct {
	text  string
	t     time.Time
	typed bool
}

// record is one data row as a reader extracted it: the canonical columns'
// cells, indexed like columnDefs.
type record struct {
	row   int
	cells [numColumns]cell
}

var errDueBeforeSubmitted = errors.New("due date is before the submission date")

// validate checks a record and builds its request: every column in
// columnDefs order (clean by kind, then the column's own set), the contact
// rule once the last contact column is passed, then the rules that span
// columns (checkRow). On failure it returns the column at fault ("" when
// the fault is not one column's) and the reason; the request then carries
// whatever was read so far.
func (b *builder) validate(rec *record) (*batch.Request, string, error) {
	req := &batch.Request{Source: batch.SourceRef{File: b.path, Row: rec.row}}
	contact := false
	for idx := range columnDefs {
		d := &columnDefs[idx]
		v, err := b.clean(d, rec.cells[idx])
		if err == nil && d.need == needRequired && v.isZero() {
			err = fmt.Errorf("missing %s", d.label)
		}
		if err == nil {
			err = d.set(req, v)
		}
		if err != nil {
			return req, d.name, err
		}
		if d.need == needContact {
			contact = contact || !v.isZero()
			if idx == lastContact && !contact {
				return req, "", errNoContact
			}
		}
	}
	col, err := checkRow(req)
	return req, col, err
}

// clean applies the checks of d's kind to a cell.
func (b *builder) clean(d *columnDef, c cell) (value, error) {
	switch d.kind {
	case kindDate:
		if c.typed {
			return value{date: c.t}, nil
		}
		t, err := b.dates.parse(c.text)
		return value{date: t}, err
	case kindEmail:
		s := trimSpace(c.text)
		if s == "" {
			return value{}, nil
		}
		e, err := normaliseEmail(s)
		return value{text: e}, err
	case kindID:
		s := trimSpace(c.text)
		if s == "" {
			return value{}, nil
		}
		return value{text: s}, checkID(d.label, s)
	}
	return value{text: trimSpace(c.text)}, nil
}

// checkRow applies the rules that span columns to a request whose columns
// each passed, and completes it: the default due date.
func checkRow(req *batch.Request) (string, error) {
	switch {
	case req.DueAt.IsZero() && !req.SubmittedAt.IsZero():
		req.DueAt = req.SubmittedAt.Add(batch.DefaultDueAfter)
	case !req.DueAt.IsZero() && req.DueAt.Before(req.SubmittedAt):
		return ColDueAt, errDueBeforeSubmitted
	}
	return "", nil
}
