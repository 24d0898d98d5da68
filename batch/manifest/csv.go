package manifest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

const (
	csvBufSize = 64 << 10
	// maxRecordBytes bounds one CSV record, so a quote left open cannot make
	// the reader swallow the rest of the file into one cell.
	maxRecordBytes = 1 << 20
)

var (
	utf8BOM        = []byte("\uFEFF")
	errRowTooLong  = fmt.Errorf("%w: a row is longer than %d bytes; is a quote left open?", ErrMalformed, maxRecordBytes)
	csvDelimiters  = []rune{',', ';', '\t'}
	errBinaryCSV   = fmt.Errorf("%w: content is binary, not CSV text", ErrUnsupported)
	errNotUTF8Text = fmt.Errorf("%w: content is not UTF-8 text; save it as CSV UTF-8", ErrUnsupported)
)

// readCSV streams a CSV manifest into b.
//
// Rows are numbered as a spreadsheet shows the file: the header is the row
// it sits on (1 unless blank lines precede it), a quoted cell spanning lines
// is one row, and each blank line is a row of its own, skipped and counted
// in Info.Blank.
func readCSV(r io.Reader, b *builder) error {
	g := &guard{r: r, limit: maxRecordBytes + csvBufSize}
	br := bufio.NewReaderSize(g, csvBufSize)
	base := int64(0)
	if p, _ := br.Peek(len(utf8BOM)); bytes.Equal(p, utf8BOM) {
		br.Discard(len(utf8BOM))
		base = int64(len(utf8BOM))
	}
	head, _ := br.Peek(csvBufSize)
	if err := checkText(head, len(head) < csvBufSize); err != nil {
		return err
	}

	cr := csv.NewReader(br)
	cr.Comma = sniffDelimiter(head)
	cr.FieldsPerRecord = -1 // a row of the wrong length is a reject, not a file error
	cr.ReuseRecord = true   // cells are copied into a record; their strings stay valid
	rows := &rowCounter{cr: cr}

	cells, err := cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		return ErrEmpty
	case err != nil:
		return b.csvError(err, rows)
	}
	if err := b.setHeader(cells, rows.next(cells)); err != nil {
		return err
	}
	g.limit = base + cr.InputOffset() + maxRecordBytes + csvBufSize

	for {
		cells, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return b.csvError(err, rows)
		}
		g.limit = base + cr.InputOffset() + maxRecordBytes + csvBufSize
		row := rows.next(cells)
		b.info.Blank += rows.gap
		if isBlank(cells) {
			b.blank()
			continue
		}
		if len(cells) != len(b.hdr.columns) {
			reason := fmt.Sprintf("row has %d cells but the header has %d", len(cells), len(b.hdr.columns))
			if err := b.reject(row, b.idOf(cells), "", reason); err != nil {
				return err
			}
			continue
		}
		rec := record{row: row}
		b.hdr.fill(&rec, cells)
		if err := b.add(&rec); err != nil {
			return err
		}
	}
}

// idOf returns the request id in a raw record, if it has a usable one.
func (b *builder) idOf(cells []string) string {
	p := b.hdr.pos[idxRequestID]
	if p < 0 || p >= len(cells) {
		return ""
	}
	id := trimSpace(cells[p])
	if checkID("", id) != nil {
		return ""
	}
	return id
}

// csvError turns a reading error into a FileError at the row it happened.
func (b *builder) csvError(err error, rows *rowCounter) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &FileError{Path: b.path, Row: rows.at(pe.StartLine),
			Err: fmt.Errorf("%w: %v (line %d, byte %d)", ErrMalformed, pe.Err, pe.Line, pe.Column)}
	}
	if errors.Is(err, errRowTooLong) {
		return &FileError{Path: b.path, Row: rows.prev + 1, Err: err}
	}
	return err
}

// checkText refuses content that is clearly not UTF-8 text. head is the
// start of the file; complete says it is the whole file.
func checkText(head []byte, complete bool) error {
	if bytes.IndexByte(head, 0) >= 0 {
		return errBinaryCSV
	}
	if !complete {
		// Drop a rune the peek may have cut in half.
		if i := bytes.LastIndexByte(head, '\n'); i >= 0 {
			head = head[:i]
		}
	}
	if !utf8.Valid(head) {
		return errNotUTF8Text
	}
	if len(bytes.TrimSpace(head)) == 0 {
		return ErrEmpty
	}
	return nil
}

// sniffDelimiter picks comma, semicolon or tab: whichever occurs most often
// outside quotes on the first non-blank line. Ties go to the comma.
func sniffDelimiter(head []byte) rune {
	var line []byte
	for len(head) > 0 {
		line, head, _ = bytes.Cut(head, []byte("\n"))
		if len(bytes.TrimSpace(line)) > 0 {
			break
		}
	}
	counts := map[rune]int{}
	quoted := false
	for _, c := range string(line) {
		if c == '"' {
			quoted = !quoted
		} else if !quoted {
			counts[c]++
		}
	}
	best := ','
	for _, d := range csvDelimiters {
		if counts[d] > counts[best] {
			best = d
		}
	}
	return best
}

func isBlank(cells []string) bool {
	for _, c := range cells {
		if trimSpace(c) != "" {
			return false
		}
	}
	return true
}

// rowCounter turns the csv.Reader's line numbers into spreadsheet rows.
type rowCounter struct {
	cr      *csv.Reader
	prev    int // row of the previous record
	prevEnd int // line the previous record ended on
	gap     int // blank lines skipped before the record just read
}

// next returns the row of the record just read, cells.
func (c *rowCounter) next(cells []string) int {
	start, _ := c.cr.FieldPos(0)
	end, _ := c.cr.FieldPos(len(cells) - 1)
	end += strings.Count(cells[len(cells)-1], "\n")
	row := c.at(start)
	c.gap = start - c.prevEnd - 1
	c.prev, c.prevEnd = row, end
	return row
}

// at returns the row of a record starting at line; blank lines between
// records are rows too.
func (c *rowCounter) at(line int) int {
	return c.prev + line - c.prevEnd
}

// guard fails reads past limit, an absolute offset in the stream.
type guard struct {
	r     io.Reader
	n     int64
	limit int64
}

func (g *guard) Read(p []byte) (int, error) {
	if g.n >= g.limit {
		return 0, errRowTooLong
	}
	if rem := g.limit - g.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := g.r.Read(p)
	g.n += int64(n)
	return n, err
}
