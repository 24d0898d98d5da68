package batch

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// RequestType is what the data subject asked for.
type RequestType string

// The two request types ctdsr carries out.
const (
	Access   RequestType = "access"
	Deletion RequestType = "deletion"
)

// Valid reports whether t is one of the known request types.
func (t RequestType) Valid() bool { return t == Access || t == Deletion }

// DefaultDueAfter is how long after submission a request is due when the
// manifest gives no due date (GDPR's one-month answer period).
const DefaultDueAfter = 30 * 24 * time.Hour

// Request is one validated data-subject request, as read from a manifest row.
// Email is trimmed and lower-cased; at least one of Email and UserID is set.
type Request struct {
	ID          string
	Type        RequestType
	Email       string
	UserID      string    // CleverTap "identity"
	SubmittedAt time.Time // zero when the manifest gives none
	DueAt       time.Time // zero when neither due nor submitted is known
	Source      SourceRef // where the request was first read
}

// SourceRef locates a row as a person sees it in the spreadsheet: the header
// is row 1, and a quoted cell spanning several lines is still one row.
type SourceRef struct {
	File string // path as given on the command line
	Row  int
}

// ContentHash identifies a request's content independent of where it was
// read: two rows with the same request ID and the same hash are the same
// request; the same ID with a different hash is a conflict.
func (r Request) ContentHash() string {
	h := sha256.New()
	for _, s := range []string{
		r.ID, string(r.Type), r.Email, r.UserID,
		timeKey(r.SubmittedAt), timeKey(r.DueAt),
	} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func timeKey(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Reject is a manifest row (or a whole file) that could not become a request,
// with a reason a person can act on.
type Reject struct {
	SourceFile string
	SourceRow  int    // 0 for a file-level reject
	RequestID  string // empty when the row had none
	Column     string // canonical column name, empty when not about one column
	Reason     string
}

// String renders the reject as one line: file:row: column: reason.
func (r Reject) String() string {
	var b strings.Builder
	b.WriteString(r.SourceFile)
	if r.SourceRow > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(r.SourceRow))
	}
	if r.RequestID != "" {
		b.WriteString(": request ")
		b.WriteString(r.RequestID)
	}
	if r.Column != "" {
		b.WriteString(": column ")
		b.WriteString(r.Column)
	}
	b.WriteString(": ")
	b.WriteString(r.Reason)
	return b.String()
}
