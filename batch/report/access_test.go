package report

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the account zones below, whatever the machine has installed
)

// zipFile is one entry of a package, read back with archive/zip.
type zipFile struct {
	name string
	mode fs.FileMode
	data []byte
}

func readZip(tb testing.TB, p string) []zipFile {
	tb.Helper()
	zr, err := zip.OpenReader(p)
	if err != nil {
		tb.Fatalf("open %s: %v", p, err)
	}
	defer zr.Close()
	var out []zipFile
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			tb.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			tb.Fatalf("%s in %s: %v", f.Name, p, err)
		}
		out = append(out, zipFile{f.Name, f.Mode().Perm(), b})
	}
	return out
}

func zipEntryData(tb testing.TB, files []zipFile, name string) []byte {
	tb.Helper()
	for _, f := range files {
		if f.name == name {
			return f.data
		}
	}
	tb.Fatalf("no %s in the package", name)
	return nil
}

func mustZone(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

// eventsOf is an events source over a slice, counting its calls.
func eventsOf(evs []EventRow, calls *int) func(func(EventRow) error) error {
	return func(fn func(EventRow) error) error {
		*calls++
		for _, e := range evs {
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestAccessPackageContents(t *testing.T) {
	retrieved := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	profiles := []ProfileRow{
		{RequestID: "R-1", MatchedBy: "email", ObjectIDs: []string{"__a", "__b"}, Email: "ana@example.com", Name: "Ana <b>",
			ProfileDataJSON: `{"Name":"Ana","Score":3.5,"Tags":["x"]}`, EventSummaryJSON: `{"App Launched":4}`,
			PlatformInfoJSON: `[{"platform":"iOS"}]`, RetrievedAt: retrieved.Add(-time.Minute)},
		{RequestID: "R-1", MatchedBy: "user_id", ObjectIDs: nil, Identity: "u-7",
			ProfileDataJSON: `not json {`, EventSummaryJSON: "", PlatformInfoJSON: `[]`, RetrievedAt: retrieved},
	}
	events := []EventRow{
		{RequestID: "R-1", ObjectID: "__a", Email: "ana@example.com", EventName: "App Launched",
			EventTime:      time.Date(2024, 1, 15, 20, 0, 0, 123456000, time.UTC),
			EventPropsJSON: `{"screen":"home"}`, SessionPropsJSON: `{"session":1}`},
		{RequestID: "R-1", ObjectID: "__a", Identity: "u-7", EventName: "=HYPERLINK(\"http://evil.example\")",
			EventTime:      time.Date(2024, 7, 1, 0, 30, 0, 0, time.FixedZone("x", -3600)), // 01:30 UTC
			EventPropsJSON: `{"note":"line one\nline two, with a comma and \"quotes\""}`, SessionPropsJSON: ``},
		{RequestID: "R-1", ObjectID: "__b", EventName: "@Purchase", EventTime: time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC),
			EventPropsJSON: `-1`, SessionPropsJSON: `{}`},
	}
	zone := mustZone(t, "America/New_York") // EST in winter, EDT in summer
	var calls int
	dir := filepath.Join(t.TempDir(), "out", PackagesDir)
	path, counts, err := WriteAccessPackage(dir, AccessPackage{RequestID: "R-1", Zone: zone,
		Profiles: profiles, Events: eventsOf(events, &calls)})
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "R-1.zip") || counts != (AccessCounts{Profiles: 2, Events: 3}) || calls != 2 {
		t.Errorf("path %s, counts %+v, events read %d times; want %s, 2 profiles and 3 events, read twice",
			path, counts, calls, filepath.Join(dir, "R-1.zip"))
	}
	if m := fileMode(t, path); m != 0o600 {
		t.Errorf("package mode %v, want 0600", m)
	}
	if m := fileMode(t, dir); m != 0o700 {
		t.Errorf("directory mode %v, want 0700", m)
	}
	files := readZip(t, path)
	var names []string
	for _, f := range files {
		names = append(names, f.name)
		if f.mode != 0o600 {
			t.Errorf("%s: mode %v, want 0600", f.name, f.mode)
		}
	}
	if want := []string{"profile.json", "events.csv", "events.json", "README.txt"}; !slices.Equal(names, want) {
		t.Fatalf("files %q, want %q", names, want)
	}

	t.Run("profile.json", func(t *testing.T) {
		var got struct {
			RequestID   string `json:"request_id"`
			RetrievedAt string `json:"retrieved_at"`
			Profiles    []struct {
				MatchedBy    string          `json:"matched_by"`
				ObjectIDs    []string        `json:"object_ids"`
				Name         string          `json:"name"`
				ProfileData  json.RawMessage `json:"profile_data"`
				EventSummary json.RawMessage `json:"event_summary"`
				PlatformInfo json.RawMessage `json:"platform_info"`
			} `json:"profiles"`
		}
		data := zipEntryData(t, files, "profile.json")
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatalf("profile.json does not parse: %v", err)
		}
		if got.RequestID != "R-1" || got.RetrievedAt != "2024-03-01T12:00:00Z" || len(got.Profiles) != 2 {
			t.Fatalf("request %q retrieved %q with %d profiles; want R-1, the latest retrieved_at, 2", got.RequestID, got.RetrievedAt, len(got.Profiles))
		}
		p0, p1 := got.Profiles[0], got.Profiles[1]
		var pd map[string]any
		if err := json.Unmarshal(p0.ProfileData, &pd); err != nil || pd["Name"] != "Ana" || pd["Score"] != 3.5 {
			t.Errorf("profile_data = %s; want the JSON object embedded, not a string", p0.ProfileData)
		}
		if string(p0.PlatformInfo) != `[{"platform":"iOS"}]` && !strings.HasPrefix(string(p0.PlatformInfo), "[") {
			t.Errorf("platform_info = %s, want the array", p0.PlatformInfo)
		}
		if string(p1.ProfileData) != `"not json {"` || string(p1.EventSummary) != "null" || p1.ObjectIDs == nil {
			t.Errorf("profile 2: profile_data %s, event_summary %s, object_ids %v; want the invalid JSON as a string, null, []",
				p1.ProfileData, p1.EventSummary, p1.ObjectIDs)
		}
		if p0.Name != "Ana <b>" || !bytes.Contains(data, []byte("Ana <b>")) || !bytes.Contains(data, []byte("\n  ")) {
			t.Errorf("want pretty-printed JSON with text as given (no HTML escaping)")
		}
	})

	// Both events files hold exactly the events given, times in UTC and
	// in the account zone.
	want := [][]string{ // time_utc, time_local, event, object_id, identity, email, event_props, session_props
		{"2024-01-15T20:00:00.123456Z", "2024-01-15T15:00:00.123456-05:00", "App Launched", "__a", "", "ana@example.com", `{"screen":"home"}`, `{"session":1}`},
		{"2024-07-01T01:30:00Z", "2024-06-30T21:30:00-04:00", `=HYPERLINK("http://evil.example")`, "__a", "u-7", "",
			`{"note":"line one\nline two, with a comma and \"quotes\""}`, ""},
		{"2024-02-29T23:59:59Z", "2024-02-29T18:59:59-05:00", "@Purchase", "__b", "", "", "-1", "{}"},
	}
	t.Run("events.csv", func(t *testing.T) {
		data, ok := bytes.CutPrefix(zipEntryData(t, files, "events.csv"), []byte("\uFEFF"))
		if !ok {
			t.Error("events.csv has no UTF-8 byte-order mark")
		}
		recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(recs[0], eventColumns) {
			t.Errorf("header %q, want %q", recs[0], eventColumns)
		}
		if len(recs)-1 != len(want) {
			t.Fatalf("%d events, want %d", len(recs)-1, len(want))
		}
		for i, w := range want {
			w = slices.Clone(w)
			for j := range w {
				w[j] = csvText(w[j]) // formula-looking values carry an apostrophe
			}
			if !slices.Equal(recs[i+1], w) {
				t.Errorf("event %d:\n got %q\nwant %q", i+1, recs[i+1], w)
			}
		}
		if !bytes.Contains(data, []byte(`'=HYPERLINK`)) || !bytes.Contains(data, []byte(`'@Purchase`)) || !bytes.Contains(data, []byte(`'-1`)) {
			t.Errorf("formula-looking cells are not prefixed with an apostrophe")
		}
	})
	t.Run("events.json", func(t *testing.T) {
		var got []map[string]any
		if err := json.Unmarshal(zipEntryData(t, files, "events.json"), &got); err != nil {
			t.Fatalf("events.json does not parse: %v", err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d events, want %d", len(got), len(want))
		}
		for i, w := range want {
			g := got[i]
			for j, key := range eventColumns[:6] {
				v, _ := g[key].(string)
				if v != w[j] {
					t.Errorf("event %d %s = %q, want %q", i+1, key, v, w[j])
				}
			}
			for j, key := range eventColumns[6:] {
				gotJSON, _ := json.Marshal(g[key])
				var wantV any
				if w[6+j] != "" {
					json.Unmarshal([]byte(w[6+j]), &wantV)
				}
				wantJSON, _ := json.Marshal(wantV)
				if !bytes.Equal(gotJSON, wantJSON) {
					t.Errorf("event %d %s = %s, want %s embedded as JSON", i+1, key, gotJSON, wantJSON)
				}
			}
			utc, err1 := time.Parse(time.RFC3339Nano, w[0])
			local, err2 := time.Parse(time.RFC3339Nano, w[1])
			if err1 != nil || err2 != nil || !utc.Equal(local) || !utc.Equal(events[i].EventTime) {
				t.Errorf("event %d: %s and %s are not both the event's time", i+1, w[0], w[1])
			}
		}
	})
	t.Run("README.txt", func(t *testing.T) {
		readme := string(zipEntryData(t, files, "README.txt"))
		for _, s := range []string{"Request:            R-1", "Retrieved:          2024-03-01T12:00:00Z", "Profiles found:     2",
			"Events:             3", "America/New_York", "profile.json", "events.csv", "events.json",
			"PERSONAL DATA", "send this package to the data subject"} {
			if !strings.Contains(readme, s) {
				t.Errorf("README does not say %q:\n%s", s, readme)
			}
		}
		if strings.Contains(strings.ReplaceAll(readme, "\r\n", ""), "\n") {
			t.Error("README has bare line feeds; want CRLF throughout")
		}
	})
}

func TestAccessPackageStreamsManyEvents(t *testing.T) {
	const n = 20_000
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var calls int
	events := func(fn func(EventRow) error) error {
		calls++
		for i := range n {
			err := fn(EventRow{RequestID: "R-2", ObjectID: "__x", EventName: fmt.Sprintf("e%d", i),
				EventTime: base.Add(time.Duration(i) * time.Second), EventPropsJSON: fmt.Sprintf(`{"i":%d}`, i), SessionPropsJSON: "{}"})
			if err != nil {
				return err
			}
		}
		return nil
	}
	path, counts, err := WriteAccessPackage(t.TempDir(), AccessPackage{RequestID: "R-2", Retrieved: base,
		Zone: mustZone(t, "Asia/Kolkata"), Events: events})
	if err != nil {
		t.Fatal(err)
	}
	if counts.Events != n || counts.Profiles != 0 || calls != 2 {
		t.Errorf("counts %+v after %d calls, want %d events and 2 calls", counts, calls, n)
	}
	files := readZip(t, path)
	data, _ := bytes.CutPrefix(zipEntryData(t, files, "events.csv"), []byte("\uFEFF"))
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var js []struct {
		Event      string         `json:"event"`
		TimeLocal  string         `json:"time_local"`
		EventProps map[string]int `json:"event_props"`
	}
	if err := json.Unmarshal(zipEntryData(t, files, "events.json"), &js); err != nil {
		t.Fatal(err)
	}
	if len(recs)-1 != n || len(js) != n {
		t.Fatalf("events.csv has %d events, events.json %d; want %d each", len(recs)-1, len(js), n)
	}
	for i := range n {
		if name := fmt.Sprintf("e%d", i); recs[i+1][2] != name || js[i].Event != name || js[i].EventProps["i"] != i {
			t.Fatalf("event %d: csv %q, json %+v; want %s in order", i, recs[i+1], js[i], name)
		}
	}
	if !strings.HasSuffix(js[0].TimeLocal, "+05:30") || js[0].TimeLocal != "2024-01-01T05:30:00+05:30" {
		t.Errorf("time_local = %q, want 2024-01-01T05:30:00+05:30", js[0].TimeLocal)
	}
	if readme := string(zipEntryData(t, files, "README.txt")); !strings.Contains(readme, "Events:             20000") ||
		!strings.Contains(readme, "Profiles found:     0") {
		t.Errorf("README does not give the counts:\n%s", readme)
	}
}

func TestAccessPackageWithNothingFound(t *testing.T) {
	retrieved := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	path, counts, err := WriteAccessPackage(t.TempDir(), AccessPackage{RequestID: "R-3", Retrieved: retrieved, Zone: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	files := readZip(t, path)
	if counts != (AccessCounts{}) {
		t.Errorf("counts %+v, want none", counts)
	}
	if got := string(zipEntryData(t, files, "events.json")); got != "[]\n" {
		t.Errorf("events.json = %q, want an empty array", got)
	}
	if got := string(zipEntryData(t, files, "events.csv")); got != "\uFEFF"+strings.Join(eventColumns, ",")+"\n" {
		t.Errorf("events.csv = %q, want the header alone", got)
	}
	var pf struct{ Profiles []any }
	if err := json.Unmarshal(zipEntryData(t, files, "profile.json"), &pf); err != nil || pf.Profiles == nil || len(pf.Profiles) != 0 {
		t.Errorf("profile.json profiles = %v (%v), want []", pf.Profiles, err)
	}
}

func TestAccessPackageRefuses(t *testing.T) {
	retrieved := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	errSource := errors.New("ledger read failed")
	good := AccessPackage{RequestID: "R-1", Retrieved: retrieved, Zone: time.UTC}
	tests := []struct {
		name   string
		change func(p *AccessPackage)
		wantIs error  // errors.Is target, or nil
		want   string // in the message
	}{
		{"no request id", func(p *AccessPackage) { p.RequestID = "" }, nil, "no request id"},
		{"no zone", func(p *AccessPackage) { p.Zone = nil }, nil, "time zone"},
		{"no retrieval time", func(p *AccessPackage) { p.Retrieved = time.Time{} }, nil, "retrieval time"},
		{"another request's profile", func(p *AccessPackage) {
			p.Profiles = []ProfileRow{{RequestID: "R-2", RetrievedAt: retrieved}}
		}, nil, "profile 1 belongs to another request"},
		{"another request's event", func(p *AccessPackage) {
			var n int
			p.Events = eventsOf([]EventRow{{RequestID: "R-1"}, {RequestID: "R-2"}}, &n)
		}, nil, "event 2 belongs to another request"},
		{"source error", func(p *AccessPackage) {
			p.Events = func(func(EventRow) error) error { return errSource }
		}, errSource, "events.csv"},
		{"source gives fewer events the second time", func(p *AccessPackage) {
			calls := 0
			p.Events = func(fn func(EventRow) error) error {
				calls++
				for range 3 - calls {
					if err := fn(EventRow{RequestID: "R-1"}); err != nil {
						return err
					}
				}
				return nil
			}
		}, nil, "same events"},
		{"source gives other events the second time", func(p *AccessPackage) {
			calls := 0
			p.Events = func(fn func(EventRow) error) error {
				calls++
				return fn(EventRow{RequestID: "R-1", EventName: fmt.Sprint("e", calls)})
			}
		}, nil, "same events"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := good
			tt.change(&p)
			_, _, err := WriteAccessPackage(dir, p)
			if err == nil || !strings.Contains(err.Error(), tt.want) || tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Fatalf("err = %v; want one saying %q (errors.Is %v)", err, tt.want, tt.wantIs)
			}
			if got := dirEntries(t, dir); len(got) != 0 {
				t.Errorf("left %q behind", got)
			}
		})
	}
}

func TestAccessPackageKeepsThePreviousOnFailure(t *testing.T) {
	dir := t.TempDir()
	p := AccessPackage{RequestID: "R-1", Retrieved: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), Zone: time.UTC}
	path, _, err := WriteAccessPackage(dir, p)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	p.Events = func(func(EventRow) error) error { return errors.New("boom") }
	if _, _, err := WriteAccessPackage(dir, p); err == nil {
		t.Fatal("want an error")
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) || !slices.Equal(dirEntries(t, dir), []string{"R-1.zip"}) {
		t.Error("a failed write changed the previous package or left files behind")
	}
}

func TestAccessPackageIsReproducible(t *testing.T) {
	p := AccessPackage{RequestID: "R-1", Retrieved: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), Zone: time.UTC,
		Profiles: []ProfileRow{{RequestID: "R-1", ProfileDataJSON: `{"a":1}`}}}
	var out [2][]byte
	for i := range out {
		path, _, err := WriteAccessPackage(t.TempDir(), p)
		if err != nil {
			t.Fatal(err)
		}
		out[i], _ = os.ReadFile(path)
	}
	if !bytes.Equal(out[0], out[1]) {
		t.Error("the same package written twice differs")
	}
}

func TestAccessDirIsMadePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), PackagesDir)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // whatever the umask
		t.Fatal(err)
	}
	_, _, err := WriteAccessPackage(dir, AccessPackage{RequestID: "R-1", Retrieved: time.Now(), Zone: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	if m := fileMode(t, dir); m != 0o700 {
		t.Errorf("mode %v, want 0700", m)
	}
}

func TestAccessReadmeQuotesHostileIDs(t *testing.T) {
	for _, id := range []string{"x\ny", "a\u202Eb", "nul\x00", "tab\t"} {
		path, _, err := WriteAccessPackage(t.TempDir(), AccessPackage{RequestID: id, Retrieved: time.Now(), Zone: time.UTC})
		if err != nil {
			t.Fatal(err)
		}
		readme := string(zipEntryData(t, readZip(t, path), "README.txt"))
		line, _, _ := strings.Cut(readme[strings.Index(readme, "Request:"):], "\r\n")
		if want := "Request:            " + strconv.QuoteToGraphic(id); line != want {
			t.Errorf("README line %q, want %q: the id quoted, with escapes", line, want)
		}
	}
}
