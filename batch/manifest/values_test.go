package manifest

import (
	"strings"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
)

func TestParseType(t *testing.T) {
	tests := []struct {
		in   string
		want batch.RequestType
		err  string
	}{
		{"access", batch.Access, ""}, {"Export", batch.Access, ""}, {" DSAR ", batch.Access, ""},
		{"sar", batch.Access, ""}, {"Copy", batch.Access, ""}, {"Right of Access", batch.Access, ""},
		{"right_of_access", batch.Access, ""},
		{"deletion", batch.Deletion, ""}, {"DELETE", batch.Deletion, ""}, {"erasure", batch.Deletion, ""},
		{"Erase", batch.Deletion, ""}, {"forget", batch.Deletion, ""}, {"Right to be Forgotten", batch.Deletion, ""},
		{"right-to-be-forgotten", batch.Deletion, ""}, {"RTBF", batch.Deletion, ""},
		{"", "", "missing request type"}, {"   ", "", "missing request type"},
		{"refund", "", `unknown request type "refund"; use access or deletion`},
		{"access deletion", "", `unknown request type "access deletion"; use access or deletion`},
	}
	for _, tt := range tests {
		got, err := parseType(tt.in)
		if got != tt.want || errString(err) != tt.err {
			t.Errorf("parseType(%q) = %q, %q; want %q, %q", tt.in, got, errString(err), tt.want, tt.err)
		}
	}
}

func TestNormaliseEmail(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"a@example.com", "a@example.com", ""},
		{"  Alice.Smith+tag@Example.CO.UK ", "alice.smith+tag@example.co.uk", ""},
		{"o'brien@example.ie", "o'brien@example.ie", ""},
		{"user@sub.bücher.de", "user@sub.bücher.de", ""},
		{"plain", "", "not a valid email address: no @"},
		{"a@b@example.com", "", "not a valid email address: more than one @"},
		{"@example.com", "", "not a valid email address: nothing before the @"},
		{"a@", "", "not a valid email address: nothing after the @"},
		{"a@localhost", "", "not a valid email address: the domain needs a dot, as in example.com"},
		{"a@example..com", "", "not a valid email address: the domain needs a dot, as in example.com"},
		{"a@.example.com", "", "not a valid email address: the domain needs a dot, as in example.com"},
		{"a@example.com.", "", "not a valid email address: the domain needs a dot, as in example.com"},
		{"a@[10.0.0.1]", "", "not a valid email address: the domain needs a dot, as in example.com"},
		{"Alice <a@example.com>", "", "not a valid email address: contains spaces, quotes, brackets or a list separator"},
		{"a@example.com, b@example.com", "", "not a valid email address: contains spaces, quotes, brackets or a list separator"},
		{"a@example.com;b@example.com", "", "not a valid email address: contains spaces, quotes, brackets or a list separator"},
		{`"a b"@example.com`, "", "not a valid email address: contains spaces, quotes, brackets or a list separator"},
		{"a(comment)@example.com", "", "not a valid email address"},
		{".a@example.com", "", "not a valid email address"},
		{"a\x00@example.com", "", "not a valid email address: contains a control character (U+0000 NULL)"},
		{"a\t@example.com", "", "not a valid email address: contains a control character (U+0009 CHARACTER TABULATION)"},
		{"a\u200b@example.com", "", "not a valid email address: contains an invisible format character (U+200B ZERO WIDTH SPACE)"},
		{"a@example.com\u202e", "", "not a valid email address: contains a bidirectional text control (U+202E RIGHT-TO-LEFT OVERRIDE)"},
		{"\ufeffa@example.com", "", "not a valid email address: contains an invisible format character (U+FEFF ZERO WIDTH NO-BREAK SPACE, a byte-order mark)"},
		{"a\ufffd@example.com", "", "not a valid email address: contains U+FFFD REPLACEMENT CHARACTER, the mark of bytes lost to a wrong encoding; export the file again as UTF-8"},
		// NFC, then lower case: composed and decomposed accents are one address.
		{"jose\u0301@example.com", "jos\u00e9@example.com", ""},
		{"JOS\u00c9@Example.com", "jos\u00e9@example.com", ""},
		{" JOSE\u0301@EXAMPLE.COM\u00a0", "jos\u00e9@example.com", ""},
		{"\u212bngstr\u00f6m@example.se", "\u00e5ngstr\u00f6m@example.se", ""}, // ANGSTROM SIGN → å
		{"user@bu\u0308cher.de", "user@b\u00fccher.de", ""},
		{"\xff@example.com", "", "not a valid email address: not UTF-8 text"},
		{strings.Repeat("a", 65) + "@example.com", "", "not a valid email address: too long"},
		{"a@" + strings.Repeat("b", 250) + ".com", "", "not a valid email address: too long"},
	}
	for _, tt := range tests {
		got, err := normaliseEmail(tt.in)
		if got != tt.want || errString(err) != tt.err {
			t.Errorf("normaliseEmail(%q) = %q, %q; want %q, %q", tt.in, got, errString(err), tt.want, tt.err)
		}
	}
}

func TestDateParser(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	const hint = "; use YYYY-MM-DD or ISO 8601 such as 2024-01-31T09:00:00Z"
	tests := []struct {
		p    dateParser
		in   string
		want string // RFC 3339 in UTC, "" for the zero time
		err  string
	}{
		{dateParser{loc: time.UTC}, "", "", ""},
		{dateParser{loc: time.UTC}, "2024-01-31", "2024-01-31T00:00:00Z", ""},
		{dateParser{loc: cet}, "2024-01-31", "2024-01-30T23:00:00Z", ""},
		{dateParser{loc: cet}, "2024-01-31T09:00:00Z", "2024-01-31T09:00:00Z", ""},
		{dateParser{loc: cet}, "2024-01-31T09:00:00.123+02:00", "2024-01-31T07:00:00.123Z", ""},
		{dateParser{loc: cet}, "2024-01-31T09:00:00+0200", "2024-01-31T07:00:00Z", ""},
		{dateParser{loc: cet}, "2024-01-31T09:00Z", "2024-01-31T09:00:00Z", ""},
		{dateParser{loc: cet}, "2024-01-31 09:00:00+01:00", "2024-01-31T08:00:00Z", ""},
		{dateParser{loc: cet}, "2024-01-31T09:00:00", "2024-01-31T08:00:00Z", ""},
		{dateParser{loc: cet}, " 2024-01-31 09:00 ", "2024-01-31T08:00:00Z", ""},
		{dateParser{loc: time.UTC}, "2024-02-30", "", `cannot read "2024-02-30" as a date` + hint},
		{dateParser{loc: time.UTC}, "31/01/2024", "", `cannot read "31/01/2024" as a date` + hint},
		{dateParser{loc: time.UTC}, "45322", "", `cannot read "45322" as a date` + hint},
		{dateParser{loc: time.UTC, serials: true}, "45322", "2024-01-31T00:00:00Z", ""},
		{dateParser{loc: time.UTC, serials: true}, "45322.375", "2024-01-31T09:00:00Z", ""},
		{dateParser{loc: cet, serials: true}, "45322.375", "2024-01-31T08:00:00Z", ""},
		{dateParser{loc: time.UTC, serials: true, date1904: true}, "43860", "2024-01-31T00:00:00Z", ""},
		{dateParser{loc: time.UTC, serials: true}, "0", "", "0 is out of range for an Excel date"},
		{dateParser{loc: time.UTC, serials: true}, "-3", "", "-3 is out of range for an Excel date"},
		{dateParser{loc: time.UTC, serials: true}, "20240131", "", "20240131 is out of range for an Excel date"},
		{dateParser{loc: time.UTC, serials: true}, "NaN", "", "NaN is out of range for an Excel date"},
	}
	for _, tt := range tests {
		got, err := tt.p.parse(tt.in)
		gs := ""
		if !got.IsZero() {
			gs = got.Format(time.RFC3339Nano)
		}
		if gs != tt.want || errString(err) != tt.err {
			t.Errorf("parse(%q) with %+v = %q, %q; want %q, %q", tt.in, tt.p, gs, errString(err), tt.want, tt.err)
		}
	}
}

func TestHeaderKeyAliases(t *testing.T) {
	for header, want := range map[string]string{
		"Request ID": ColRequestID, "request_id": ColRequestID, "ID": ColRequestID, "Ticket": ColRequestID,
		"Ticket #ID": ColRequestID, "Case-ID": ColRequestID, "Reference": ColRequestID,
		"Request Type": ColRequestType, "TYPE": ColRequestType, "Action": ColRequestType, "Request": ColRequestType, "Right": ColRequestType,
		"E-mail": ColEmail, "Email Address": ColEmail, "mail": ColEmail, "\uFEFFEmail": ColEmail,
		"Identity": ColUserID, "User ID": ColUserID, "customer_id": ColUserID, "External-ID": ColUserID, "UID": ColUserID,
		"Submitted At": ColSubmittedAt, "Received": ColSubmittedAt, "received_at": ColSubmittedAt, "Date": ColSubmittedAt, "Created At": ColSubmittedAt,
		"Due": ColDueAt, "due_at": ColDueAt, "Deadline": ColDueAt, "Due Date": ColDueAt,
		"Notes": "", "Requester": "", "": "",
	} {
		h, _ := mapHeader([]string{header})
		got := ""
		if idx, ok := aliases[headerKey(header)]; ok {
			got = columnDefs[idx].name
		}
		if got != want {
			t.Errorf("header %q maps to %q, want %q (%v)", header, got, want, h)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestReasonsNeverEchoEmails: reject reasons are printed, so a value that
// looks like an email (columns shifted) must not appear in them.
func TestReasonsNeverEchoEmails(t *testing.T) {
	const email = "alice@example.com"
	_, typeErr := parseType(email)
	_, dateErr := dateParser{loc: time.UTC}.parse(email)
	_, hdrErr := mapHeader([]string{"R-1", "access", email})
	for _, err := range []error{typeErr, dateErr, hdrErr} {
		if err == nil || strings.Contains(err.Error(), "alice") {
			t.Errorf("error %v; want one that does not repeat the address", err)
		}
	}
	if want := `(found: 3 cells of data, not column names; is the header row missing?)`; !strings.Contains(hdrErr.Error(), want) {
		t.Errorf("header error %q; want it to contain %q", hdrErr, want)
	}
}
