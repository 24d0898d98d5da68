package ctsim

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// benchSim is a generated account of n profiles with ~10 events each.
func benchSim(b *testing.B, n int) (*Server, *Dataset) {
	b.Helper()
	ds := Generate(GenOptions{Seed: 1, Profiles: n, EventsPerProfile: 10})
	ds.Account.ID, ds.Account.Passcodes = "ACC-1", []string{"pass-a"}
	s, err := New(ds, Options{})
	if err != nil {
		b.Fatal(err)
	}
	return s, ds
}

func BenchmarkProfileLookupByEmail(b *testing.B) {
	s, ds := benchSim(b, 10_000)
	i := 0
	for b.Loop() {
		email := ds.Profiles[i%len(ds.Profiles)].Email
		i++
		rec := serve(s, httptest.NewRequest("GET", "/1/profile.json?email="+url.QueryEscape(email), nil))
		if rec.Code != 200 {
			b.Fatalf("HTTP %d", rec.Code)
		}
	}
}

// BenchmarkEventsExportOneUser is the client's per-user recipe: step 1
// with an Email filter, then the single page.
func BenchmarkEventsExportOneUser(b *testing.B) {
	s, ds := benchSim(b, 10_000)
	i := 0
	for b.Loop() {
		email := ds.Profiles[i%len(ds.Profiles)].Email
		i++
		body := `{"event_name":"Charged","from":20250101,"to":20261231,"common_profile_properties":{"profile_fields":[{"name":"Email","operator":"equals","value":"` + email + `"}]}}`
		rec := serve(s, httptest.NewRequest("POST", "/1/events.json?batch_size=5000", strings.NewReader(body)))
		var c cursorReply
		if err := json.Unmarshal(rec.Body.Bytes(), &c); err != nil || c.Cursor == "" {
			b.Fatalf("step 1: %s", rec.Body)
		}
		if rec := serve(s, httptest.NewRequest("GET", "/1/events.json?cursor="+c.Cursor, nil)); rec.Code != 200 {
			b.Fatalf("page: HTTP %d", rec.Code)
		}
	}
}

// BenchmarkEventsExportAll pages through every "Charged" event of 10,000
// profiles (about 20,000 events) at batch_size 5000.
func BenchmarkEventsExportAll(b *testing.B) {
	s, _ := benchSim(b, 10_000)
	body := `{"event_name":"Charged","from":20250101,"to":20261231}`
	records := 0
	for b.Loop() {
		rec := serve(s, httptest.NewRequest("POST", "/1/events.json?batch_size=5000", strings.NewReader(body)))
		var page pageReply
		var c cursorReply
		if err := json.Unmarshal(rec.Body.Bytes(), &c); err != nil {
			b.Fatal(err)
		}
		records = 0
		for cursor := c.Cursor; cursor != ""; cursor = page.NextCursor {
			page = pageReply{}
			rec := serve(s, httptest.NewRequest("GET", "/1/events.json?cursor="+cursor, nil))
			if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
				b.Fatal(err)
			}
			records += len(page.Records)
		}
	}
	b.ReportMetric(float64(records), "events/op")
}
