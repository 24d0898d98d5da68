package ctsim

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// summaryHeavyDataset is realistic for the page-size question: 100
// profiles, each with events of 20 names (so each profile's lifetime summary
// has 20 entries), and 50 "Charged" events each: 5000 Charged records.
func summaryHeavyDataset() *Dataset {
	r := rand.New(rand.NewPCG(11, 12))
	names := []string{"App Launched", "App Installed", "App Uninstalled", "Session Concluded", "Reachable By",
		"UTM Visited", "Product Viewed", "Added To Cart", "Checkout Started", "Notification Viewed",
		"Notification Clicked", "Search", "Wishlist Added", "Coupon Applied", "Review Written",
		"Profile Updated", "Login", "Logout", "Page Viewed"} // and Charged: 20 names
	start := DefaultNow.AddDate(0, 0, -60)
	ds := &Dataset{Account: Account{ID: "ACC-1", Passcodes: []string{"pass-a"}}}
	for i := 1; i <= 100; i++ {
		p := genProfile(r, i, start, 30*24*time.Hour)
		ds.Profiles = append(ds.Profiles, p)
		at := func() time.Time { return p.CreatedAt.Add(randDur(r, 20*24*time.Hour)).Truncate(time.Second) }
		for _, n := range names {
			ds.Events = append(ds.Events, genEvent(r, p.Devices[0], n, at()))
		}
		for range 50 {
			ds.Events = append(ds.Events, genEvent(r, p.Devices[r.IntN(len(p.Devices))], "Charged", at()))
		}
	}
	return ds
}

// pageBytes returns the size of the one 5000-record page of a Charged
// export opened with flags.
func pageBytes(tb testing.TB, ts *testSim, flags string) int {
	tb.Helper()
	body := map[string]any{"event_name": "Charged", "from": 20251101, "to": 20260131}
	pages := ts.pages(tb, "events", ts.open(tb, "events", "?batch_size=5000"+flags, body))
	if len(pages) != 1 || len(records(pages)) != 5000 {
		tb.Fatalf("%d pages, %d records; want one page of 5000", len(pages), len(records(pages)))
	}
	return len(pages[0].raw)
}

// TestEventsFalseShrinksPages measures what events=false saves on a
// 5000-record page whose profiles each have 20 event names in their
// summary: the figure quoted for the client's step-1 flags.
func TestEventsFalseShrinksPages(t *testing.T) {
	ts := mustSim(t, summaryHeavyDataset(), Options{})
	with := pageBytes(t, ts, "")                              // events=true, the default
	without := pageBytes(t, ts, "&events=false&profile=true") // what the client sends
	ratio := float64(without) / float64(with)
	t.Logf("5000-record page: %s with the event summary, %s with events=false (%.0f%% of it, %.0f%% saved)",
		mib(with), mib(without), 100*ratio, 100*(1-ratio))
	if ratio > 0.5 {
		t.Errorf("events=false page is %.0f%% of the default page, want at most 50%%", 100*ratio)
	}
}

func mib(n int) string { return fmt.Sprintf("%.2f MiB (%d B)", float64(n)/(1<<20), n) }
