package batch_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/batch/batchtest"
	"github.com/ctdsr/ctdsr/clevertap"
	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// harness is one simulator behind a real HTTP server, the real client
// pointed at it, and a fake ledger.
type harness struct {
	tb    testing.TB
	sim   *ctsim.Server
	srv   *httptest.Server
	api   *clevertap.Client
	store *batchtest.Store
	wire  *wire
	zone  *time.Location // the simulated account's timezone
	runs  int
}

// newHarness serves a simulator of ds with opts. The client retries fast
// (5 attempts, 1–20 ms) with quota 3 × 0.75 (K = 2) unless opts override.
func newHarness(tb testing.TB, ds *ctsim.Dataset, opts ctsim.Options, clientOpts ...clevertap.Option) *harness {
	tb.Helper()
	sim, err := ctsim.New(ds, opts)
	if err != nil {
		tb.Fatalf("ctsim.New: %v", err)
	}
	w := &wire{next: sim}
	srv := httptest.NewServer(w)
	tb.Cleanup(srv.Close)
	zone, err := time.LoadLocation(ds.Account.Timezone)
	if err != nil {
		tb.Fatalf("account timezone: %v", err)
	}
	h := &harness{tb: tb, sim: sim, srv: srv, store: batchtest.New(), wire: w, zone: zone}
	h.store.Now = sim.Now
	h.api = mustClient(tb, srv.URL, clevertap.Passcode(ctsim.DemoPasscode), clientOpts...)
	return h
}

func mustClient(tb testing.TB, url string, pass clevertap.Passcode, opts ...clevertap.Option) *clevertap.Client {
	tb.Helper()
	base := []clevertap.Option{
		clevertap.WithBaseURL(url),
		clevertap.WithCredentials(ctsim.DemoAccountID, pass),
		clevertap.WithRetry(clevertap.RetryPolicy{MaxAttempts: 5, BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond}),
		clevertap.WithQuota(clevertap.Quota{Concurrency: 3, Share: 0.75}),
	}
	c, err := clevertap.NewClient(append(base, opts...)...)
	if err != nil {
		tb.Fatalf("clevertap.NewClient: %v", err)
	}
	return c
}

// tweak changes what one test run uses: a setting, or one of the run's
// dependencies.
type tweak func(*batch.Config, *batch.Deps)

// settings are batch.DefaultConfig with the harness's timings (short
// verification waits, full delete batches: the end of the input flushes)
// in the simulated account's timezone,
// and deps the harness's store and client, the simulator's clock and a
// fresh run id. The tweaks are applied to both.
func (h *harness) settings(tweaks ...tweak) (batch.Config, batch.Deps) {
	h.runs++
	cfg := batch.DefaultConfig()
	cfg.VerifyFirst = 50 * time.Millisecond
	cfg.VerifyWindow = 100 * time.Millisecond
	cfg.DeleteBatchWait = 10 * time.Second
	cfg.Location = h.zone
	deps := batch.Deps{RunID: fmt.Sprintf("run-%d", h.runs), Store: h.store, API: h.api, Now: h.sim.Now}
	for _, tw := range tweaks {
		tw(&cfg, &deps)
	}
	return cfg, deps
}

// run carries out one run of everything open in the store.
func (h *harness) run(ctx context.Context, tweaks ...tweak) error {
	h.tb.Helper()
	r, err := batch.NewRunner(h.settings(tweaks...))
	if err != nil {
		h.tb.Fatalf("NewRunner: %v", err)
	}
	return r.Run(ctx)
}

// mustRun is run that fails the test on an error.
func (h *harness) mustRun(tweaks ...tweak) {
	h.tb.Helper()
	if err := h.run(context.Background(), tweaks...); err != nil {
		h.tb.Fatalf("Run: %v", err)
	}
}

// noViolations fails the test if the engine made a call it never should.
func (h *harness) noViolations() {
	h.tb.Helper()
	for _, v := range h.store.Violations() {
		h.tb.Errorf("ledger violation: %s", v)
	}
}

// wire sits between the client and the simulator and records what the
// statistics do not: successful cursor opens of event exports, the size
// of every accepted delete call, every API request.
type wire struct {
	next http.Handler

	requests      atomic.Int64
	eventOpens    atomic.Int64
	filteredOpens atomic.Int64                  // successful event opens with the profile filter
	objectLookups atomic.Int64                  // profile lookups by objectId
	onRequest     atomic.Pointer[func(n int64)] // called with the request's number, before it is served
	onPath        func(path string)             // called with every API request's path; set before the run
	// rewrite, when set, changes a request before the simulator sees it
	// (the answer then does not fit the question: a wrong-person proxy).
	rewrite atomic.Pointer[func(*http.Request)]

	mu          sync.Mutex
	deleteCalls []deleteCall
	lookups     []string                 // raw queries of profile lookups, in order
	served      map[string]time.Duration // time spent serving each group's requests
	spans       map[string][]span        // when each group's requests were served
}

// span is when one request was being served.
type span struct{ start, end time.Time }

func (w *wire) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/1/") {
		w.next.ServeHTTP(rw, r)
		return
	}
	n := w.requests.Add(1)
	if f := w.rewrite.Load(); f != nil {
		(*f)(r)
	}
	if w.onPath != nil {
		w.onPath(r.URL.Path)
	}
	if r.URL.Path == "/1/profile.json" {
		if strings.HasPrefix(r.URL.RawQuery, "objectId=") {
			w.objectLookups.Add(1)
		}
		w.mu.Lock()
		w.lookups = append(w.lookups, r.URL.RawQuery)
		w.mu.Unlock()
	}
	if f := w.onRequest.Load(); f != nil {
		(*f)(n)
	}
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	c := &capture{ResponseWriter: rw}
	start := time.Now()
	w.next.ServeHTTP(c, r)
	end := time.Now()
	w.mu.Lock()
	if w.served == nil {
		w.served = map[string]time.Duration{}
		w.spans = map[string][]span{}
	}
	g := groupOf(r.URL.Path)
	w.served[g] += end.Sub(start)
	w.spans[g] = append(w.spans[g], span{start, end})
	w.mu.Unlock()
	ok := c.status == http.StatusOK && bytes.Contains(c.body.Bytes(), []byte(`"success"`))
	switch {
	case !ok:
	case r.URL.Path == "/1/events.json" && r.Method == http.MethodPost && !strings.Contains(r.URL.RawQuery, "cursor="):
		w.eventOpens.Add(1)
		if bytes.Contains(body, []byte("common_profile_properties")) {
			w.filteredOpens.Add(1)
		}
	case r.URL.Path == "/1/delete/profiles.json":
		var d struct{ Identity, GUID []string }
		if json.Unmarshal(body, &d) == nil {
			c := deleteCall{"guid", len(d.GUID)}
			if len(d.Identity) > 0 {
				c = deleteCall{"identity", len(d.Identity)}
			}
			w.mu.Lock()
			w.deleteCalls = append(w.deleteCalls, c)
			w.mu.Unlock()
		}
	}
}

func groupOf(path string) string {
	switch path {
	case "/1/profile.json":
		return "profile"
	case "/1/events.json":
		return "events"
	case "/1/delete/profiles.json":
		return "delete"
	}
	return path
}

// servedFor returns the time spent serving group's requests.
func (w *wire) servedFor(group string) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.served[group]
}

// spansOf returns when group's requests were served, in the order they
// ended.
func (w *wire) spansOf(group string) []span {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.spans[group])
}

func (w *wire) setOnRequest(f func(n int64)) { w.onRequest.Store(&f) }

// deleteCall is one accepted delete call: its kind of ids and how many.
type deleteCall struct {
	kind string // "guid" or "identity"
	n    int
}

func (w *wire) deletes() []deleteCall {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.deleteCalls)
}

// capture keeps the status and the start of a response; it passes
// hijacking through, for the simulator's connection resets.
type capture struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *capture) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *capture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if c.body.Len() < 512 {
		c.body.Write(b[:min(len(b), 512)])
	}
	return c.ResponseWriter.Write(b)
}

func (c *capture) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return c.ResponseWriter.(http.Hijacker).Hijack()
}

// truth is what CleverTap holds of a request's subject: the profiles with
// its email or user id and, as the engine treats an email as identifying,
// every profile sharing an email with those (orphans); and every event of
// their devices.
func truth(sim *ctsim.Server, req batch.Request) ([]ctsim.Profile, []ctsim.Event) {
	profiles := sim.Lookup(req.Email, req.UserID)
	seen := map[string]bool{}
	for _, p := range profiles {
		seen[p.Devices[0].ObjectID] = true
	}
	for i := 0; i < len(profiles); i++ {
		if profiles[i].Email == "" {
			continue
		}
		for _, q := range sim.Lookup(profiles[i].Email, "") {
			if !seen[q.Devices[0].ObjectID] {
				seen[q.Devices[0].ObjectID] = true
				profiles = append(profiles, q)
			}
		}
	}
	var ids []string
	for _, p := range profiles {
		for _, d := range p.Devices {
			ids = append(ids, d.ObjectID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return profiles, sim.EventsOf(ids...)
}

// eventKey identifies an event by everything the export carries of it.
func eventKey(objectID, name string, at time.Time, props, session string) string {
	return strings.Join([]string{objectID, name, at.UTC().Format(time.RFC3339), props, session}, "|")
}

func propsJSON(m map[string]any) string {
	if len(m) == 0 {
		return "{}"
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// diffEvents compares exported events with the simulator's as multisets
// and describes what is missing, extra or duplicated.
func diffEvents(got []batch.Event, want []ctsim.Event) []string {
	counts := map[string]int{}
	for _, e := range want {
		counts[eventKey(e.ObjectID, e.Name, e.Time, propsJSON(e.EventProps), propsJSON(e.SessionProps))]++
	}
	for _, e := range got {
		counts[eventKey(e.ObjectID, e.EventName, e.Time, e.EventPropsJSON, e.SessionPropsJSON)]--
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		switch n := counts[k]; {
		case n > 0:
			out = append(out, fmt.Sprintf("missing %d× %s", n, k))
		case n < 0:
			out = append(out, fmt.Sprintf("extra or duplicated %d× %s", -n, k))
		}
	}
	return out
}

// objectIDSets renders profiles as sorted sets of objectIds, for comparing
// bundles with the simulator.
func objectIDSets[T any](ps []T, ids func(T) []string) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, strings.Join(slices.Sorted(slices.Values(ids(p))), ","))
	}
	slices.Sort(out)
	return out
}

func simIDs(p ctsim.Profile) []string {
	var ids []string
	for _, d := range p.Devices {
		ids = append(ids, d.ObjectID)
	}
	return ids
}

func foundIDs(p batch.FoundProfile) []string { return p.ObjectIDs }

// checkAccess asserts that an access request ended as the simulator's
// ground truth says: not found, or done with exactly the subject's
// profiles and events, each name exported once, no count mismatch.
func checkAccess(t *testing.T, h *harness, req batch.Request) {
	t.Helper()
	rec, ok := h.store.Get(req.ID)
	if !ok {
		t.Fatalf("request %s: not in the store", req.ID)
	}
	profiles, events := truth(h.sim, req)
	if len(profiles) == 0 {
		if rec.Status != batch.StatusNotFound || len(rec.Profiles) > 0 || len(rec.Events) > 0 {
			t.Errorf("request %s (unknown subject): status %s, %d profiles, %d names; want not_found and nothing saved",
				req.ID, rec.Status, len(rec.Profiles), len(rec.Events))
		}
		return
	}
	if rec.Status != batch.StatusDone {
		t.Errorf("request %s: status %s (%s), want done", req.ID, rec.Status, rec.Detail)
		return
	}
	if strings.Contains(rec.Detail, "differ from CleverTap's summary") {
		t.Errorf("request %s: detail %q flags a count mismatch", req.ID, rec.Detail)
	}
	if got, want := objectIDSets(rec.Profiles, foundIDs), objectIDSets(profiles, simIDs); !slices.Equal(got, want) {
		t.Errorf("request %s: bundle profiles\n got %q\nwant %q", req.ID, got, want)
	}
	for _, p := range rec.Profiles {
		byID := p.MatchedBy == batch.MatchedByIdentity || p.MatchedBy == batch.MatchedByBoth
		if byID && p.Identity != req.UserID {
			t.Errorf("request %s: profile %v matched by %s but has identity %q", req.ID, p.ObjectIDs, p.MatchedBy, p.Identity)
		}
	}
	if d := diffEvents(h.store.Events(req.ID), events); len(d) > 0 {
		t.Errorf("request %s: exported events differ from the simulator's (%d exported, %d held):\n  %s",
			req.ID, len(h.store.Events(req.ID)), len(events), strings.Join(d, "\n  "))
	}
	names := map[string]int64{}
	for _, e := range events {
		names[e.Name]++
	}
	for name, n := range names {
		if got := rec.Names[name]; got.Exported != n || got.Expected != n {
			t.Errorf("request %s: name %q saved as %+v, want %d exported and expected", req.ID, name, got, n)
		}
	}
}

// dataset is a generated dataset with orphans: every 4th profile shares
// the previous one's email and has no identity.
func dataset(profiles int) *ctsim.Dataset {
	return ctsim.Generate(ctsim.GenOptions{
		Seed: 11, Profiles: profiles, EventsPerProfile: 6, SharedEmailEvery: 4,
		EventNames: []string{"App Launched", "Product Viewed", "Charged", "Notification Clicked"},
	})
}

// hasOrphan reports whether profile i of a dataset made by dataset shares
// its email with the next one.
func hasOrphan(ds *ctsim.Dataset, i int) bool {
	return i+1 < len(ds.Profiles) && ds.Profiles[i+1].Identity == "" &&
		strings.EqualFold(ds.Profiles[i+1].Email, ds.Profiles[i].Email)
}

// picker hands out dataset profiles that fit a condition, each once.
type picker struct {
	ds   *ctsim.Dataset
	used map[int]bool
}

func newPicker(ds *ctsim.Dataset) *picker { return &picker{ds: ds, used: map[int]bool{}} }

func (pk *picker) pick(tb testing.TB, ok func(i int, p ctsim.Profile) bool) ctsim.Profile {
	tb.Helper()
	for i, p := range pk.ds.Profiles {
		if !pk.used[i] && ok(i, p) {
			pk.used[i] = true
			if hasOrphan(pk.ds, i) {
				pk.used[i+1] = true
			}
			return p
		}
	}
	tb.Fatalf("dataset has no more profiles that fit")
	return ctsim.Profile{}
}

func withIdentity(_ int, p ctsim.Profile) bool { return p.Identity != "" }

func any_(int, ctsim.Profile) bool { return true }

func (pk *picker) orphaned(i int, p ctsim.Profile) bool { return hasOrphan(pk.ds, i) }

func (pk *picker) orphanedWithIdentity(i int, p ctsim.Profile) bool {
	return hasOrphan(pk.ds, i) && p.Identity != ""
}

func (pk *picker) single(i int, p ctsim.Profile) bool {
	return !hasOrphan(pk.ds, i) && p.Identity != "" && (i == 0 || !hasOrphan(pk.ds, i-1))
}
