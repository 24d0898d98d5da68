package manifest

import (
	"context"
	"errors"
	"fmt"

	"github.com/ctdsr/ctdsr/batch"
)

// builder turns the records of one file into Rows: it validates, dedups,
// counts and calls the caller's function. Readers feed it.
type builder struct {
	ctx   context.Context
	path  string
	opts  Options
	info  *Info
	fn    func(Row) error
	dates dateParser
	hdr   *header
}

// callbackError carries an error from the caller's function through the
// readers untouched.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }

// setHeader maps the header cells found at row.
func (b *builder) setHeader(cells []string, row int) error {
	h, err := mapHeader(cells)
	if err != nil {
		return &FileError{Path: b.path, Row: row, Err: err}
	}
	b.hdr = h
	b.info.Columns = h.columns
	b.info.UnknownColumns = h.unknown
	return nil
}

// blank counts a row without any value.
func (b *builder) blank() { b.info.Blank++ }

// reject delivers a row that could not be read as a request.
func (b *builder) reject(row int, requestID, column, reason string) error {
	b.info.Rows++
	b.info.Rejected++
	src := batch.SourceRef{File: b.path, Row: row}
	rej := &batch.Reject{SourceFile: b.path, SourceRow: row, RequestID: requestID, Column: column, Reason: reason}
	return b.deliver(Row{Source: src, Reject: rej})
}

// add validates a record and delivers the result.
func (b *builder) add(rec *record) error {
	req, col, err := b.validate(rec)
	if err != nil {
		id := ""
		if col != ColRequestID {
			id = req.ID
		}
		return b.reject(rec.row, id, col, err.Error())
	}
	verdict, first := Unique, batch.SourceRef{}
	if !b.opts.NoDedup {
		first, verdict = b.opts.Dedup.Add(req)
	}
	switch verdict {
	case Conflict:
		return b.reject(rec.row, req.ID, ColRequestID, fmt.Sprintf(
			"request id already used at %s:%d with different content", first.File, first.Row))
	case Repeat:
		b.info.Rows++
		b.info.Merged++
		return b.deliver(Row{Source: req.Source, Request: req, Duplicate: &first})
	}
	b.info.Rows++
	b.info.Accepted++
	b.info.Types[req.Type]++
	return b.deliver(Row{Source: req.Source, Request: req})
}

func (b *builder) deliver(r Row) error {
	if b.info.Rows%1024 == 0 {
		if err := b.ctx.Err(); err != nil {
			return err
		}
	}
	if err := b.fn(r); err != nil {
		return callbackError{err}
	}
	return nil
}

// fileError shapes the error a reader returned into what Read returns.
func (b *builder) fileError(err error) error {
	var cb callbackError
	var fe *FileError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &cb):
		return cb.err
	case b.ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		return err
	case errors.As(err, &fe):
		return fe
	}
	return &FileError{Path: b.path, Err: err}
}
