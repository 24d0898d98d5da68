package manifest

import (
	"errors"
	"fmt"
	"math"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/unicode/norm"

	"github.com/ctdsr/ctdsr/batch"
)

// typeValues maps a normalised request-type cell (see headerKey) to a type.
var typeValues = map[string]batch.RequestType{}

func init() {
	for t, words := range map[batch.RequestType][]string{
		batch.Access:   {"access", "export", "dsar", "sar", "copy", "right of access"},
		batch.Deletion: {"deletion", "delete", "erasure", "erase", "forget", "right to be forgotten", "rtbf"},
	} {
		for _, w := range words {
			typeValues[headerKey(w)] = t
		}
	}
}

// parseType reads a request-type cell in any case, ignoring spaces and
// punctuation ("Right to be forgotten", "DSAR", " erasure ").
func parseType(s string) (batch.RequestType, error) {
	s = trimSpace(s)
	if s == "" {
		return "", errors.New("missing request type")
	}
	if t, ok := typeValues[s]; ok { // already normalised: no allocation
		return t, nil
	}
	if t, ok := typeValues[headerKey(s)]; ok {
		return t, nil
	}
	return "", fmt.Errorf("unknown request type%s; use access or deletion", echo(s))
}

// echo quotes a cell for a reject reason, shortened, unless it looks like an
// email address: reasons are printed, and emails must not be.
func echo(s string) string {
	if strings.Contains(s, "@") {
		return " the value (it looks like an email address)"
	}
	return fmt.Sprintf(" %q", truncate(s, 40))
}

// normaliseEmail trims an address, puts it in Unicode NFC, lower-cases it
// and checks its syntax, so that one address written in NFD (decomposed
// accents) or NFC, in any case, is one subject.
//
// Accepted: a bare addr-spec (local@domain) that net/mail parses back to
// itself, with no display name, no angle brackets, no quoted local part,
// exactly one @, at most 64 bytes before it and 254 in all, and a domain of
// at least two labels ("example.com", not "localhost" or "[10.0.0.1]").
// Refused before anything else: bytes that are not UTF-8 and the characters
// hiddenRune describes (controls, format characters, U+FFFD). The error
// never repeats the address.
func normaliseEmail(s string) (string, error) {
	if !utf8.ValidString(s) { // before NFC and ToLower, which would mask it
		return "", errors.New("not a valid email address: not UTF-8 text")
	}
	e := trimSpace(s)
	if p := hiddenRune(e); p != "" {
		return "", errors.New("not a valid email address: contains " + p)
	}
	e = strings.ToLower(norm.NFC.String(e))
	local, domain, ok := strings.Cut(e, "@")
	switch {
	case strings.ContainsFunc(e, unicode.IsSpace) || strings.ContainsAny(e, "<>,;\""):
		return "", errors.New("not a valid email address: contains spaces, quotes, brackets or a list separator")
	case !ok:
		return "", errors.New("not a valid email address: no @")
	case strings.Contains(domain, "@"):
		return "", errors.New("not a valid email address: more than one @")
	case local == "":
		return "", errors.New("not a valid email address: nothing before the @")
	case domain == "":
		return "", errors.New("not a valid email address: nothing after the @")
	case len(local) > 64 || len(e) > 254:
		return "", errors.New("not a valid email address: too long")
	case !strings.Contains(domain, ".") || strings.HasPrefix(domain, "[") ||
		strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, ".."):
		return "", errors.New("not a valid email address: the domain needs a dot, as in example.com")
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Name != "" || a.Address != e {
		return "", errors.New("not a valid email address")
	}
	return e, nil
}

// dateLayouts are the ISO 8601 forms accepted in text cells, tried in order.
// Layouts without a zone are read in Options.Location.
var dateLayouts = []struct {
	layout string
	zoned  bool
}{
	{time.RFC3339Nano, true}, // fractional seconds are optional when parsing
	{"2006-01-02T15:04:05Z0700", true},
	{"2006-01-02T15:04Z07:00", true},
	{"2006-01-02 15:04:05Z07:00", true},
	{"2006-01-02T15:04:05", false},
	{"2006-01-02 15:04:05", false},
	{"2006-01-02T15:04", false},
	{"2006-01-02 15:04", false},
	{"2006-01-02", false},
}

// dateParser reads date cells. Serials are Excel date serials, accepted only
// when reading a workbook.
type dateParser struct {
	loc      *time.Location
	serials  bool
	date1904 bool
}

// maxSerial is 9999-12-31, the last date Excel can show.
const maxSerial = 2958465

// parse reads s; an empty cell gives the zero time.
func (p dateParser) parse(s string) (time.Time, error) {
	s = trimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, l := range dateLayouts {
		if l.zoned {
			if t, err := time.Parse(l.layout, s); err == nil {
				return t.UTC(), nil
			}
			continue
		}
		if t, err := time.ParseInLocation(l.layout, s, p.loc); err == nil {
			return t.UTC(), nil
		}
	}
	if p.serials {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			if f <= 0 || f > maxSerial+1 || math.IsNaN(f) {
				return time.Time{}, fmt.Errorf("%s is out of range for an Excel date", s)
			}
			return p.fromSerial(f)
		}
	}
	return time.Time{}, fmt.Errorf("cannot read%s as a date; use YYYY-MM-DD or ISO 8601 such as 2024-01-31T09:00:00Z",
		echo(s))
}

// fromSerial turns an Excel serial (days since 1900 or 1904, local wall
// clock) into an instant in p.loc, rounded to the second.
func (p dateParser) fromSerial(f float64) (time.Time, error) {
	w, err := excelize.ExcelDateToTime(f, p.date1904)
	if err != nil {
		return time.Time{}, fmt.Errorf("%v is not an Excel date: %w", f, err)
	}
	w = w.Round(time.Second)
	return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, p.loc).UTC(), nil
}
