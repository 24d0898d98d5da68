package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"text/template"
	"unicode"
)

// The files of an access package. events.csv uses encoding/csv rather than
// csvutil: the nine columns are fixed, nothing is decoded, and every cell
// goes through csvText anyway, so a struct encoder would add reflection
// and a dependency for nothing.

// isoTime is ISO 8601 with the offset ("Z" for UTC) and the ledger's
// microsecond precision, trailing zeros dropped.
const isoTime = "2006-01-02T15:04:05.999999Z07:00"

// eventColumns is the header of events.csv; eventJSON's fields have the
// same names.
var eventColumns = []string{"time_utc", "time_local", "event", "object_id", "identity", "email", "event_props", "session_props"}

// eventJSON is one element of events.json.
type eventJSON struct {
	TimeUTC      string `json:"time_utc"`
	TimeLocal    string `json:"time_local"`
	Event        string `json:"event"`
	ObjectID     string `json:"object_id"`
	Identity     string `json:"identity,omitempty"`
	Email        string `json:"email,omitempty"`
	EventProps   any    `json:"event_props"`
	SessionProps any    `json:"session_props"`
}

// profileFile is profile.json.
type profileFile struct {
	RequestID   string        `json:"request_id"`
	RetrievedAt string        `json:"retrieved_at"`
	Profiles    []profileJSON `json:"profiles"`
}

type profileJSON struct {
	MatchedBy    string   `json:"matched_by"`
	ObjectIDs    []string `json:"object_ids"`
	Identity     string   `json:"identity,omitempty"`
	Email        string   `json:"email,omitempty"`
	Name         string   `json:"name,omitempty"`
	Phone        string   `json:"phone,omitempty"`
	RetrievedAt  string   `json:"retrieved_at"`
	ProfileData  any      `json:"profile_data"`
	EventSummary any      `json:"event_summary"`
	PlatformInfo any      `json:"platform_info"`
}

// embedJSON is a JSON payload column as it goes into a JSON file: the
// JSON itself when valid, the text as a string when not (CleverTap's data
// is kept either way), null when empty.
func embedJSON(s string) any {
	switch {
	case s == "":
		return nil
	case json.Valid([]byte(s)):
		return json.RawMessage(s)
	}
	return s
}

func (pw *packageWriter) writeProfiles(w io.Writer) error {
	pf := profileFile{RequestID: pw.p.RequestID, RetrievedAt: pw.retrieved.Format(isoTime),
		Profiles: make([]profileJSON, 0, len(pw.p.Profiles))}
	for _, p := range pw.p.Profiles {
		ids := p.ObjectIDs
		if ids == nil {
			ids = []string{}
		}
		pf.Profiles = append(pf.Profiles, profileJSON{
			MatchedBy: p.MatchedBy, ObjectIDs: ids, Identity: p.Identity, Email: p.Email, Name: p.Name, Phone: p.Phone,
			RetrievedAt:  p.RetrievedAt.UTC().Format(isoTime),
			ProfileData:  embedJSON(p.ProfileDataJSON),
			EventSummary: embedJSON(p.EventSummaryJSON),
			PlatformInfo: embedJSON(p.PlatformInfoJSON),
		})
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(pf)
}

func (pw *packageWriter) writeEventsCSV(w io.Writer, t *eventTally) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil { // byte-order mark: Excel then reads UTF-8
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(eventColumns); err != nil {
		return err
	}
	rec := make([]string, len(eventColumns))
	err := pw.eachEvent(t, func(e EventRow) error {
		rec[0] = e.EventTime.UTC().Format(isoTime)
		rec[1] = e.EventTime.In(pw.p.Zone).Format(isoTime)
		rec[2] = csvText(e.EventName)
		rec[3] = csvText(e.ObjectID)
		rec[4] = csvText(e.Identity)
		rec[5] = csvText(e.Email)
		rec[6] = csvText(e.EventPropsJSON)
		rec[7] = csvText(e.SessionPropsJSON)
		return cw.Write(rec)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

func (pw *packageWriter) writeEventsJSON(w io.Writer, t *eventTally) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("  ", "  ")
	sep := "[\n  "
	err := pw.eachEvent(t, func(e EventRow) error {
		buf.Reset()
		buf.WriteString(sep)
		sep = ",\n  "
		err := enc.Encode(eventJSON{
			TimeUTC: e.EventTime.UTC().Format(isoTime), TimeLocal: e.EventTime.In(pw.p.Zone).Format(isoTime),
			Event: e.EventName, ObjectID: e.ObjectID, Identity: e.Identity, Email: e.Email,
			EventProps: embedJSON(e.EventPropsJSON), SessionProps: embedJSON(e.SessionPropsJSON),
		})
		if err != nil {
			return err
		}
		_, err = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		return err
	})
	if err != nil {
		return err
	}
	end := "\n]\n"
	if t.n == 0 {
		end = "[]\n"
	}
	_, err = io.WriteString(w, end)
	return err
}

// readme is README.txt. Everything in it that comes from data is passed
// through printable first.
var readme = template.Must(template.New("README.txt").Parse(`Personal data access package
============================

Request:            {{.RequestID}}
Retrieved:          {{.Retrieved}} (UTC)
Profiles found:     {{.Profiles}}
Events:             {{.Events}}
Account time zone:  {{.Zone}}

This package answers a data subject access request. It holds the personal
data that CleverTap held about one person, the data subject, when it was
retrieved at the time above.

PERSONAL DATA: send this package to the data subject of the request above,
and to no one else. Keep it no longer than the request needs.

Files
-----
profile.json  Every profile found for the subject ({{.Profiles}}), with the
              identifiers it was found by, its object ids, and the profile
              data, event summary and platform information as CleverTap
              returned them. Times are UTC.
events.csv    Every event recorded for the subject ({{.Events}}), one row per
              event, for spreadsheet programs: the time in UTC (time_utc)
              and in the account time zone, {{.Zone}} (time_local), both
              ISO 8601 with their offset; the event name; the profile it
              belongs to (object_id, identity, email); and the event and
              session properties as JSON text. The file is UTF-8 with a
              byte-order mark. A value that would begin with =, +, -, @, a
              tab or a carriage return begins with an apostrophe (') so
              that spreadsheet programs show it rather than run it.
events.json   The same events as a JSON array, with the same field names and
              exact values; properties are JSON objects.
README.txt    This file.
`))

type readmeData struct {
	RequestID, Retrieved, Zone string
	Profiles                   int
	Events                     int64
}

func (pw *packageWriter) writeReadme(w io.Writer) error {
	var b strings.Builder
	err := readme.Execute(&b, readmeData{
		RequestID: printable(pw.p.RequestID), Retrieved: pw.retrieved.Format(isoTime),
		Zone: printable(pw.p.Zone.String()), Profiles: len(pw.p.Profiles), Events: pw.events,
	})
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, strings.ReplaceAll(b.String(), "\n", "\r\n")) // CRLF: Notepad and friends
	return err
}

// printable is s as a reader should see it in plain text: itself when it
// holds only graphic characters, quoted with escapes otherwise (a line
// break, a NUL, or a right-to-left override U+202E that would reorder
// what follows).
func printable(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsGraphic(r) }) {
		return s
	}
	return strconv.QuoteToGraphic(s)
}
