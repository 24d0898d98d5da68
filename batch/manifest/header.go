package manifest

import (
	"fmt"
	"strings"
	"unicode"
)

// headerKey normalises a header cell for matching: case, spaces,
// underscores, hyphens, punctuation and a stray byte-order mark are ignored,
// so "E-mail Address", "email_address" and "EmailAddress" all match.
func headerKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// Column is one header cell of a manifest and what it was matched to.
type Column struct {
	Index     int    // 0-based position in the file
	Header    string // as written in the file
	Canonical string // canonical name, or "" when the column is ignored
}

// header is the mapping of one file's header onto the canonical columns.
type header struct {
	columns []Column
	pos     [numColumns]int // file position of each canonical column, -1 when absent
	unknown []string        // header names of ignored columns, in file order
}

// mapHeader matches the header cells of a file against columnDefs. It
// fails with a ErrDuplicateCol or ErrMissingColumn error naming what it
// found.
func mapHeader(cells []string) (*header, error) {
	h := &header{columns: make([]Column, len(cells))}
	for i := range h.pos {
		h.pos[i] = -1
	}
	for i, cell := range cells {
		name := trimSpace(strings.ReplaceAll(cell, "\uFEFF", ""))
		h.columns[i] = Column{Index: i, Header: name}
		idx, ok := aliases[headerKey(name)]
		if !ok {
			if name != "" {
				h.unknown = append(h.unknown, name)
			}
			continue
		}
		if prev := h.pos[idx]; prev >= 0 {
			return nil, fmt.Errorf("%w: %q and %q both mean %s",
				ErrDuplicateCol, h.columns[prev].Header, name, columnDefs[idx].name)
		}
		h.pos[idx] = i
		h.columns[i].Canonical = columnDefs[idx].name
	}
	var missing, contacts []string
	haveContact := false
	for idx, d := range columnDefs {
		switch d.need {
		case needRequired:
			if h.pos[idx] < 0 {
				missing = append(missing, d.name)
			}
		case needContact:
			contacts = append(contacts, d.name)
			haveContact = haveContact || h.pos[idx] >= 0
		}
	}
	if !haveContact && len(contacts) > 0 {
		missing = append(missing, strings.Join(contacts, " or "))
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w %s (found: %s)", ErrMissingColumn,
			strings.Join(missing, ", "), foundList(h.columns))
	}
	return h, nil
}

// fill copies the cells of one text row (CSV or xlsx) into rec, by the
// header's positions. Cells past the end of a short row stay empty.
func (h *header) fill(rec *record, cells []string) {
	for idx, p := range h.pos {
		if p >= 0 && p < len(cells) {
			rec.cells[idx].text = cells[p]
		}
	}
}

// foundList names the header cells found, for an error message. A row that
// looks like data (an email, a request type) is not listed at all: its other
// cells may be user ids or names, which must not be printed either.
func foundList(cols []Column) string {
	const max = 20
	var names []string
	for _, c := range cols {
		if c.Header == "" {
			continue
		}
		if _, isType := typeValues[headerKey(c.Header)]; isType || strings.Contains(c.Header, "@") {
			return fmt.Sprintf("%d cells of data, not column names; is the header row missing?", len(cols))
		}
		if len(names) == max {
			names = append(names, fmt.Sprintf("… %d more", len(cols)-max))
			break
		}
		names = append(names, fmt.Sprintf("%q", truncate(c.Header, 40)))
	}
	if len(names) == 0 {
		return "no named columns"
	}
	return strings.Join(names, ", ")
}

// truncate shortens s to at most n runes, marking the cut.
func truncate(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos] + "…"
		}
		i++
	}
	return s
}
