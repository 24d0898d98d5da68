package clevertap

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// simSetup serves a generated dataset from the simulator over real HTTP and
// returns a client for it that retries without sleeping.
func simSetup(tb testing.TB, opts ctsim.Options, copts ...Option) (*ctsim.Server, *ctsim.Dataset, *Client) {
	tb.Helper()
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 7, Profiles: 40, EventsPerProfile: 8, SharedEmailEvery: 10})
	sim, c := simServe(tb, ds, opts, append([]Option{WithTimezone(accountZone(tb, ds))}, copts...)...)
	return sim, ds, c
}

// accountZone is the zone of ds's account, which a client reads its
// exports in.
func accountZone(tb testing.TB, ds *ctsim.Dataset) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(ds.Account.Timezone)
	if err != nil {
		tb.Fatalf("account timezone: %v", err)
	}
	return loc
}

// simServe serves ds from the simulator over real HTTP and returns a
// client for it that retries without sleeping.
func simServe(tb testing.TB, ds *ctsim.Dataset, opts ctsim.Options, copts ...Option) (*ctsim.Server, *Client) {
	tb.Helper()
	sim, err := ctsim.New(ds, opts)
	if err != nil {
		tb.Fatalf("ctsim.New: %v", err)
	}
	srv := httptest.NewServer(sim)
	tb.Cleanup(srv.Close)
	base := []Option{WithBaseURL(srv.URL), WithCredentials(ds.Account.ID, Passcode(ds.Account.Passcodes[0])),
		WithRetry(RetryPolicy{MaxAttempts: 5})}
	c := mustClient(tb, append(base, copts...)...)
	c.jitter = func() float64 { return 0 }
	return sim, c
}

// subject picks a generated profile with an identity, an email of its own
// and events.
func subject(tb testing.TB, sim *ctsim.Server, ds *ctsim.Dataset) ctsim.Profile {
	tb.Helper()
	for _, p := range ds.Profiles {
		if p.Identity == "" || p.Email == "" || len(sim.Lookup(p.Email, "")) != 1 {
			continue
		}
		if len(sim.EventsOf(deviceIDs(p)...)) > 0 {
			return p
		}
	}
	tb.Fatal("no usable subject in the generated dataset")
	return ctsim.Profile{}
}

func deviceIDs(p ctsim.Profile) []string {
	var ids []string
	for _, d := range p.Devices {
		ids = append(ids, d.ObjectID)
	}
	return ids
}

// wholeRange is a query over every generated event of one name.
func wholeRange(name string) EventQuery {
	return EventQuery{EventName: name, From: DateOf(ctsim.DefaultNow.AddDate(0, 0, -120), nil), To: DateOf(ctsim.DefaultNow, nil)}
}

// truth returns the times of the subject's events named name, in order.
func truth(sim *ctsim.Server, p ctsim.Profile, name string) []time.Time {
	var out []time.Time
	for _, e := range sim.EventsOf(deviceIDs(p)...) {
		if e.Name == name {
			out = append(out, e.Time.UTC().Truncate(time.Second))
		}
	}
	return out
}

// timesOf returns the record times of the subject's devices, sorted.
func timesOf(recs []EventRecord, p ctsim.Profile) []time.Time {
	ids := deviceIDs(p)
	var out []time.Time
	for _, r := range recs {
		if slices.Contains(ids, r.ObjectID) {
			out = append(out, r.Time)
		}
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

func TestSimProfileLookups(t *testing.T) {
	sim, ds, c := simSetup(t, ctsim.Options{})
	p := subject(t, sim, ds)
	for _, tt := range []struct {
		by    LookupKey
		value string
	}{{ByEmail, strings.ToUpper(p.Email)}, {ByIdentity, p.Identity}, {ByObjectID, p.Devices[0].ObjectID}} {
		got, err := c.Profile(t.Context(), tt.by, tt.value)
		if err != nil {
			t.Fatalf("Profile(%s): %v", tt.by, err)
		}
		if got.Identity != p.Identity || got.Email != p.Email || got.Name != p.Name {
			t.Errorf("Profile(%s) = %q %q %q, want %q %q %q", tt.by, got.Identity, got.Email, got.Name, p.Identity, p.Email, p.Name)
		}
		if ids := got.ObjectIDs(); !slices.Equal(ids, deviceIDs(p)) {
			t.Errorf("Profile(%s).ObjectIDs() = %q, want %q", tt.by, ids, deviceIDs(p))
		}
		var n int64
		for _, e := range got.Events {
			n += e.Count
		}
		if want := len(sim.EventsOf(deviceIDs(p)...)); n != int64(want) {
			t.Errorf("event summary counts %d events, want %d", n, want)
		}
	}
}

func TestSimNotFoundModes(t *testing.T) {
	for _, mode := range []string{"success_null", "success_absent", "fail_200", "http_404"} {
		t.Run(mode, func(t *testing.T) {
			_, _, c := simSetup(t, ctsim.Options{NotFoundMode: mode})
			for _, tt := range []struct {
				by    LookupKey
				value string
			}{{ByEmail, "nobody@example.invalid"}, {ByIdentity, "no-such-user"}, {ByObjectID, "__nothing"}} {
				p, err := c.Profile(t.Context(), tt.by, tt.value)
				if !errors.Is(err, ErrNotFound) || p != nil {
					t.Errorf("Profile(%s) = %v, %v; want ErrNotFound", tt.by, p, err)
				}
			}
			if st := c.Stats(); st.Attempts[GroupProfile] != 3 || st.Retries[GroupProfile] != 0 {
				t.Errorf("%d attempts, %d retries; want 3 and 0", st.Attempts[GroupProfile], st.Retries[GroupProfile])
			}
		})
	}
}

func TestSimProfileFilter(t *testing.T) {
	for _, mode := range []string{"apply", "ignore", "reject"} {
		t.Run(mode, func(t *testing.T) {
			sim, ds, c := simSetup(t, ctsim.Options{ProfileFilter: mode})
			p := subject(t, sim, ds)
			name := sim.EventsOf(deviceIDs(p)...)[0].Name
			q := wholeRange(name)
			q.FilterEmail = p.Email
			q.BatchSize = 7
			recs, _, err := collect(t.Context(), c, q)
			if mode == "reject" {
				if !errors.Is(err, ErrFilterRejected) {
					t.Fatalf("err = %v, want ErrFilterRejected", err)
				}
				q.FilterEmail = "" // the caller's fallback
				recs, _, err = collect(t.Context(), c, q)
			}
			if err != nil {
				t.Fatalf("Events: %v", err)
			}
			others := 0
			for _, r := range recs {
				if !slices.Contains(deviceIDs(p), r.ObjectID) {
					others++
				}
			}
			if mode == "apply" && others != 0 {
				t.Errorf("filter applied, yet %d records of other users", others)
			}
			if mode != "apply" && others == 0 {
				t.Errorf("unfiltered export holds only the subject's records; the test proves nothing")
			}
			if got, want := timesOf(recs, p), truth(sim, p, name); !slices.Equal(got, want) {
				t.Errorf("subject's %q events at %v, want %v", name, got, want)
			}
		})
	}
}

func TestSimNotReadyPages(t *testing.T) {
	for _, status := range []int{200, 202} {
		sim, ds, c := simSetup(t, ctsim.Options{NotReadyPages: 2, NotReadyHTTPStatus: status})
		p := subject(t, sim, ds)
		name := sim.EventsOf(deviceIDs(p)...)[0].Name
		q := wholeRange(name)
		q.BatchSize = 10
		recs, pages, err := collect(t.Context(), c, q)
		if err != nil {
			t.Fatalf("HTTP %d: Events: %v", status, err)
		}
		if got, want := timesOf(recs, p), truth(sim, p, name); !slices.Equal(got, want) {
			t.Errorf("HTTP %d: subject's events at %v, want %v", status, got, want)
		}
		st := c.Stats()
		// Each fetched cursor answered "not ready" twice before its page.
		fetched := st.Calls[GroupEvents] - 1
		if pages < 2 || st.Retries[GroupEvents] != 2*fetched {
			t.Errorf("HTTP %d: %d pages, %d cursor fetches, %d retries; want ≥2 pages and 2 retries per fetch",
				status, pages, fetched, st.Retries[GroupEvents])
		}
	}
}

func TestSimCursorsRoundTripAcrossManyPages(t *testing.T) {
	// The simulator's cursors all hold %2F, %2B and %3D and it refuses any
	// cursor not sent back byte for byte, so many pages prove the round trip.
	sim, ds, c := simSetup(t, ctsim.Options{PageQuirk23: true})
	q := wholeRange("App Launched")
	q.BatchSize = 23
	recs, pages, err := collect(t.Context(), c, q)
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	var all []string
	for _, p := range ds.Profiles {
		all = append(all, deviceIDs(p)...)
	}
	want := 0
	for _, e := range sim.EventsOf(all...) {
		if e.Name == "App Launched" {
			want++
		}
	}
	if len(recs) != want || pages < 3 {
		t.Errorf("%d records in %d pages, want %d in several pages", len(recs), pages, want)
	}
}

func TestSimEmptyRange(t *testing.T) {
	_, _, c := simSetup(t, ctsim.Options{})
	recs, pages, err := collect(t.Context(), c, EventQuery{EventName: "Charged", From: 20200101, To: 20200131})
	if err != nil || pages != 0 || len(recs) != 0 {
		t.Errorf("got %d pages, %d records, err %v; want an empty export", pages, len(recs), err)
	}
}

func TestSimDelete(t *testing.T) {
	sim, ds, c := simSetup(t, ctsim.Options{})
	p := subject(t, sim, ds)
	if err := c.Delete(t.Context(), DeleteRequest{Identities: []string{p.Identity, "unknown-identity"}}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if pending := sim.PendingDeletions(); !slices.Equal(slices.Sorted(slices.Values(pending)), slices.Sorted(slices.Values(deviceIDs(p)))) {
		t.Errorf("pending deletions %q, want the subject's devices %q", pending, deviceIDs(p))
	}
	for _, bad := range []DeleteRequest{{}, {Identities: []string{"a"}, GUIDs: []string{"b"}}, {GUIDs: make([]string, 101)}} {
		if err := c.Delete(t.Context(), bad); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("Delete(%d ids, %d guids) = %v, want ErrInvalidRequest", len(bad.Identities), len(bad.GUIDs), err)
		}
	}
	if st := sim.Stats(); st.DeleteCalls != 1 || st.DeleteIDs != 2 {
		t.Errorf("simulator saw %d delete calls with %d ids, want 1 with 2", st.DeleteCalls, st.DeleteIDs)
	}
	// Still there until the deletion delay passes; gone after it.
	if _, err := c.Profile(t.Context(), ByIdentity, p.Identity); err != nil {
		t.Errorf("right after the delete: %v, want the profile still served", err)
	}
	sim.Advance(ctsim.DefaultDeletionDelay + time.Minute)
	if _, err := c.Profile(t.Context(), ByIdentity, p.Identity); !errors.Is(err, ErrNotFound) {
		t.Errorf("after the deletion delay: %v, want ErrNotFound", err)
	}
}

// counting wraps a handler and counts the requests reaching it.
type counting struct {
	h http.Handler
	n atomic.Int64
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.n.Add(1); c.h.ServeHTTP(w, r) }

func TestSimAuthFailureIsFatalAndImmediate(t *testing.T) {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 1, Profiles: 3})
	sim, err := ctsim.New(ds, ctsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, creds := range [][2]string{{ctsim.DemoAccountID, "wrong-passcode"}, {"NO-SUCH-ACCOUNT", ctsim.DemoPasscode}} {
		h := &counting{h: sim}
		c := setup(t, h, WithCredentials(creds[0], Passcode(creds[1])), WithRetry(RetryPolicy{MaxAttempts: 8}))
		_, err := c.Profile(t.Context(), ByEmail, "x@example.com")
		var re *RetryError
		if !errors.Is(err, ErrUnauthorized) || errors.As(err, &re) {
			t.Errorf("account %s: err %v, want a bare ErrUnauthorized", creds[0], err)
		}
		_, _, err = collect(t.Context(), c, EventQuery{EventName: "Charged", From: 20260101, To: 20260101, FilterEmail: "x@example.com"})
		if !errors.Is(err, ErrUnauthorized) {
			t.Errorf("account %s: events err %v, want ErrUnauthorized (not a filter rejection)", creds[0], err)
		}
		if n := h.n.Load(); n != 2 {
			t.Errorf("account %s: %d requests for two calls, want exactly 1 attempt each", creds[0], n)
		}
	}
}

func TestSimInjectedFaultsAreAbsorbed(t *testing.T) {
	for _, f := range []ctsim.Fault{ctsim.Fault429, ctsim.Fault500, ctsim.Fault503, ctsim.FaultReset} {
		t.Run(string(f), func(t *testing.T) {
			sim, ds, c := simSetup(t, ctsim.Options{})
			p := subject(t, sim, ds)
			for n := 1; n <= 3; n++ { // a burst: the first three attempts fail
				sim.InjectFault("profile", n, f)
			}
			got, err := c.Profile(t.Context(), ByIdentity, p.Identity)
			if err != nil || got.Identity != p.Identity {
				t.Fatalf("Profile after a %s burst: %v", f, err)
			}
			st := c.Stats()
			if st.Attempts[GroupProfile] != 4 || st.Retries[GroupProfile] != 3 {
				t.Errorf("%d attempts, %d retries; want 4 and 3", st.Attempts[GroupProfile], st.Retries[GroupProfile])
			}
			want429 := int64(0)
			if f == ctsim.Fault429 {
				want429 = 3
			}
			if st.RateLimited[GroupProfile] != want429 {
				t.Errorf("RateLimited = %d, want %d", st.RateLimited[GroupProfile], want429)
			}
		})
	}
}

func TestSimSlowAnswerTimesOutAndIsRetried(t *testing.T) {
	sim, ds, c := simSetup(t, ctsim.Options{},
		WithHTTPClient(&http.Client{Timeout: 300 * time.Millisecond}))
	p := subject(t, sim, ds)
	sim.InjectFault("profile", 1, ctsim.FaultSlow)
	if _, err := c.Profile(t.Context(), ByIdentity, p.Identity); err != nil {
		t.Fatalf("Profile after a slow answer: %v", err)
	}
	if st := c.Stats(); st.Attempts[GroupProfile] != 2 {
		t.Errorf("%d attempts, want 2", st.Attempts[GroupProfile])
	}
}

func TestSimSixteenGoroutinesStayWithinK(t *testing.T) {
	sim, ds, c := simSetup(t, ctsim.Options{Latency: map[string]time.Duration{"profile": 15 * time.Millisecond, "delete": 15 * time.Millisecond}})
	var wg sync.WaitGroup
	var failures atomic.Int64
	for i := range 16 {
		wg.Go(func() {
			for j := range 4 {
				p := ds.Profiles[(i*4+j)%len(ds.Profiles)]
				if _, err := c.Profile(t.Context(), ByObjectID, p.Devices[0].ObjectID); err != nil {
					failures.Add(1)
				}
				if j == 0 {
					if err := c.Delete(t.Context(), DeleteRequest{GUIDs: []string{"unknown-" + p.Devices[0].ObjectID}}); err != nil {
						failures.Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	if n := failures.Load(); n != 0 {
		t.Fatalf("%d calls failed", n)
	}
	k := 2 // the default quota: floor(3 × 0.75)
	if c.PerGroup() != k || c.Quota() != DefaultQuota() {
		t.Fatalf("client K = %d with quota %+v, want %d with the default quota", c.PerGroup(), c.Quota(), k)
	}
	simStats, st := sim.Stats(), c.Stats()
	for _, g := range []Group{GroupProfile, GroupDelete} {
		if got := simStats.MaxInFlight[string(g)]; got != k {
			t.Errorf("%s: simulator saw at most %d in flight, want exactly K = %d", g, got, k)
		}
		if st.MaxInFlight[g] != k {
			t.Errorf("%s: client saw at most %d in flight, want %d", g, st.MaxInFlight[g], k)
		}
		if simStats.TooMany[string(g)] != 0 || st.RateLimited[g] != 0 {
			t.Errorf("%s: %d 429s at C=3 (client saw %d), want none", g, simStats.TooMany[string(g)], st.RateLimited[g])
		}
	}
	if st.Calls[GroupProfile] != 64 || st.Calls[GroupDelete] != 16 {
		t.Errorf("calls %v, want 64 profile and 16 delete", st.Calls)
	}
}

func TestSimAdaptsToATighterLimit(t *testing.T) {
	// Another system holds two of the three slots: only one is left to us.
	sim, ds, c := simSetup(t, ctsim.Options{
		Limits:  map[string]int{"profile": 1},
		Latency: map[string]time.Duration{"profile": 10 * time.Millisecond},
	}, WithRetry(RetryPolicy{MaxAttempts: 10, BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond}))
	c.jitter = func() float64 { return 0.5 }
	var wg sync.WaitGroup
	var failures atomic.Int64
	for i := range 8 {
		wg.Go(func() {
			for j := range 3 {
				if _, err := c.Profile(t.Context(), ByObjectID, ds.Profiles[(i*3+j)%len(ds.Profiles)].Devices[0].ObjectID); err != nil {
					failures.Add(1)
				}
			}
		})
	}
	wg.Wait()
	st := c.Stats()
	if n := failures.Load(); n != 0 {
		t.Fatalf("%d of 24 calls failed; stats %+v", n, st)
	}
	if st.RateLimited[GroupProfile] == 0 || st.RateLimited[GroupProfile] != sim.Stats().TooMany["profile"] {
		t.Errorf("client saw %d 429s, simulator sent %d; want the same, above zero",
			st.RateLimited[GroupProfile], sim.Stats().TooMany["profile"])
	}
	// Without adapting, every round of 2 in flight would draw a 429.
	if st.RateLimited[GroupProfile] > 12 {
		t.Errorf("%d 429s for 24 calls: the cap did not shrink", st.RateLimited[GroupProfile])
	}
}
