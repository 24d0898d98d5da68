package manifest

import (
	"errors"
	"time"

	"github.com/ctdsr/ctdsr/batch"
)

// Canonical column names. Every manifest format maps its headers onto these.
const (
	ColRequestID   = "request_id"
	ColRequestType = "request_type"
	ColEmail       = "email"
	ColUserID      = "user_id"
	ColSubmittedAt = "submitted_at"
	ColDueAt       = "due_at"
)

// Column indexes into columnDefs and a record's cells. The order is the
// order in which a row's cells are checked: a row failing several checks is
// rejected for the first.
const (
	idxRequestID = iota
	idxRequestType
	idxEmail
	idxUserID
	idxSubmittedAt
	idxDueAt
	numColumns
)

// kind is what a column holds. It decides how a cell is cleaned and checked
// before the column's own set function sees it, and which Parquet types may
// hold the column.
type kind int

const (
	kindText  kind = iota // trimmed text, checked only by the column's set
	kindEmail             // an address: see normaliseEmail (NFC, lower case, syntax)
	kindID                // an identifier kept as written, trimmed; see checkID
	kindDate              // ISO 8601 text, an Excel serial in a workbook, or a typed Parquet date
)

// need says whether a manifest must have a column, and a row a value in it.
type need int

const (
	needOptional need = iota // the column may be absent and its cells empty
	needRequired             // the header must have it and every row a value
	needContact              // the header must have at least one needContact column, and every row a value in one
)

// columnDef declares one canonical column: how headers name it, what it
// holds, whether it is needed, and where its value goes in the request.
type columnDef struct {
	name    string   // canonical name, as in Column.Canonical and batch.Reject.Column
	label   string   // how reject reasons name it ("request id")
	aliases []string // other header spellings; matched through headerKey, as is name
	kind    kind
	need    need
	// set stores a cleaned value in the request; it may refuse it with a
	// reason, which becomes the row's reject. It is called for empty values
	// too, unless the column is needRequired.
	set func(req *batch.Request, v value) error
}

// value is a cell after its kind's checks: trimmed, checked text, or a
// date (zero when the cell is empty).
type value struct {
	text string
	date time.Time
}

func (v value) isZero() bool { return v.text == "" && v.date.IsZero() }

// columnDefs is the one declaration of the manifest's columns. The header
// matcher, the three readers, the record and the validator all read it.
var columnDefs = [numColumns]columnDef{
	idxRequestID: {name: ColRequestID, label: "request id", kind: kindID, need: needRequired,
		aliases: []string{"id", "request id", "ticket", "ticket id", "case id", "reference"},
		set:     func(r *batch.Request, v value) error { r.ID = v.text; return nil }},
	idxRequestType: {name: ColRequestType, label: "request type", kind: kindText, need: needRequired,
		aliases: []string{"type", "action", "request", "right"},
		set: func(r *batch.Request, v value) (err error) {
			r.Type, err = parseType(v.text)
			return err
		}},
	idxEmail: {name: ColEmail, label: "email", kind: kindEmail, need: needContact,
		aliases: []string{"e-mail", "email address", "mail"},
		set:     func(r *batch.Request, v value) error { r.Email = v.text; return nil }},
	idxUserID: {name: ColUserID, label: "user id", kind: kindID, need: needContact,
		aliases: []string{"identity", "user id", "customer id", "external id", "uid"},
		set:     func(r *batch.Request, v value) error { r.UserID = v.text; return nil }},
	idxSubmittedAt: {name: ColSubmittedAt, label: "submission date", kind: kindDate, need: needOptional,
		aliases: []string{"submitted", "received", "received at", "date", "created at"},
		set:     func(r *batch.Request, v value) error { r.SubmittedAt = v.date; return nil }},
	idxDueAt: {name: ColDueAt, label: "due date", kind: kindDate, need: needOptional,
		aliases: []string{"due", "due date", "deadline"},
		set:     func(r *batch.Request, v value) error { r.DueAt = v.date; return nil }},
}

// errNoContact rejects a row with no value in any needContact column.
var errNoContact = errors.New("needs an email or a user id")

var (
	// aliases maps a normalised header (see headerKey) to a column index.
	aliases = map[string]int{}
	// lastContact is the index of the last needContact column: the row's
	// contact rule is checked once the validator has passed it.
	lastContact = -1
)

func init() {
	for idx, d := range columnDefs {
		aliases[headerKey(d.name)] = idx
		for _, a := range d.aliases {
			aliases[headerKey(a)] = idx
		}
		if d.need == needContact {
			lastContact = idx
		}
	}
}
