package clevertap

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

func benchSetup(b *testing.B, profiles, events int) (*ctsim.Dataset, *ctsim.Server, *Client) {
	b.Helper()
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 3, Profiles: profiles, EventsPerProfile: events, EventNames: []string{"Charged"}})
	sim, err := ctsim.New(ds, ctsim.Options{})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	b.Cleanup(srv.Close)
	return ds, sim, mustClient(b, WithBaseURL(srv.URL), WithCredentials(ctsim.DemoAccountID, ctsim.DemoPasscode),
		WithQuota(Quota{Concurrency: 3, Share: 1}))
}

// BenchmarkProfileLookup measures one Profile call against the simulator
// over loopback HTTP at zero latency (client and simulator together).
func BenchmarkProfileLookup(b *testing.B) {
	ds, _, c := benchSetup(b, 50, 5)
	id := ds.Profiles[1].Devices[0].ObjectID
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Profile(b.Context(), ByObjectID, id); err != nil {
			b.Fatal(err)
		}
	}
}

var benchQuery = EventQuery{EventName: "Charged", BatchSize: 500,
	From: DateOf(ctsim.DefaultNow.AddDate(0, 0, -120), nil), To: DateOf(ctsim.DefaultNow, nil)}

// BenchmarkEventsPage measures fetching and decoding one 500-record page by
// replaying the same cursor, as the simulator allows.
func BenchmarkEventsPage(b *testing.B) {
	_, _, c := benchSetup(b, 200, 5)
	cursor, err := c.openEvents(b.Context(), benchQuery)
	if err != nil {
		b.Fatal(err)
	}
	var n int
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		page, _, err := c.eventsPage(b.Context(), cursor)
		if err != nil {
			b.Fatal(err)
		}
		n = len(page)
	}
	if n != 500 {
		b.Fatalf("page of %d records, want 500", n)
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N)/float64(n), "ns/record")
}

// BenchmarkEventsPageDecode isolates the client's share of a page: checking
// and decoding a captured 500-record body, without HTTP or the simulator.
func BenchmarkEventsPageDecode(b *testing.B) {
	_, sim, c := benchSetup(b, 200, 5)
	cursor, err := c.openEvents(b.Context(), benchQuery)
	if err != nil {
		b.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequestWithContext(b.Context(), "GET", "/1/events.json?cursor="+cursor, nil)
	req.Header.Set("X-CleverTap-Account-Id", ctsim.DemoAccountID)
	req.Header.Set("X-CleverTap-Passcode", ctsim.DemoPasscode)
	sim.ServeHTTP(rec, req)
	body := rec.Body.Bytes()
	cl := &call{op: "events page", cursor: true, pending: true, limit: 1 << 30}
	var sawJSON atomic.Bool
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		resp := newPageResponse(time.UTC, DefaultMaxEventRecordBytes, DefaultMaxEventPageBytes)
		ans := &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
		if err := checkResponse(cl, ans, resp, &sawJSON); err != nil {
			b.Fatal(err)
		}
		if resp.bad != nil || len(resp.Records) != 500 {
			b.Fatalf("%d records (%v), want 500", len(resp.Records), resp.bad)
		}
	}
}
