package batch_test

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// deletionRequests makes n deletion requests for distinct subjects of ds,
// in turn by email, by user id and by both, from profiles that ok accepts.
func deletionRequests(tb testing.TB, pk *picker, n int, ok func(int, ctsim.Profile) bool) []batch.Request {
	var reqs []batch.Request
	for i := range n {
		p := pk.pick(tb, func(i int, p ctsim.Profile) bool { return withIdentity(i, p) && ok(i, p) })
		r := batch.Request{ID: fmt.Sprintf("del-%03d", i), Type: batch.Deletion}
		switch i % 3 {
		case 0:
			r.Email = strings.ToLower(p.Email)
		case 1:
			r.UserID = p.Identity
		default:
			r.Email, r.UserID = strings.ToLower(p.Email), p.Identity
		}
		reqs = append(reqs, r)
	}
	return reqs
}

func wantAll(t *testing.T, h *harness, reqs []batch.Request, want batch.Status, stage string) {
	t.Helper()
	for _, r := range reqs {
		if rec, _ := h.store.Get(r.ID); rec.Status != want {
			t.Errorf("%s: request %s is %s (%s), want %s", stage, r.ID, rec.Status, rec.Detail, want)
		}
	}
}

func TestDeletionBatchesIDsAcrossRequests(t *testing.T) {
	ds := dataset(180)
	h := newHarness(t, ds, ctsim.Options{NoDeletionDelay: true})
	pk := newPicker(ds)
	reqs := deletionRequests(t, pk, 70, pk.single)
	unknown := batch.Request{ID: "del-unknown", Type: batch.Deletion, Email: "nobody@example.invalid", UserID: "u-999999"}
	h.store.Add(append(reqs, unknown)...)
	h.mustRun()

	guids, idents := map[string]bool{}, map[string]bool{}
	for _, r := range reqs {
		rec, _ := h.store.Get(r.ID)
		if rec.Status != batch.StatusDeleteSubmitted || rec.Plan == nil {
			t.Fatalf("request %s: status %s, plan %v; want delete_submitted with a plan", r.ID, rec.Status, rec.Plan)
		}
		for _, id := range rec.Plan.ObjectIDs {
			guids[id] = true
		}
		for _, id := range rec.Plan.Identities {
			idents[id] = true
		}
	}
	if rec, _ := h.store.Get(unknown.ID); rec.Status != batch.StatusNotFound {
		t.Errorf("unknown subject: status %s, want not_found", rec.Status)
	}
	sizes := h.wire.deletes()
	st := h.sim.Stats()
	wantCalls := (len(guids)+99)/100 + (len(idents)+99)/100
	t.Logf("%d guids + %d identities in %d delete calls %v", len(guids), len(idents), st.DeleteCalls, sizes)
	if int(st.DeleteCalls) != wantCalls || len(sizes) != wantCalls {
		t.Errorf("%d delete calls (%d seen on the wire), want %d: ids must be batched across requests", st.DeleteCalls, len(sizes), wantCalls)
	}
	if want := int64(len(guids) + len(idents)); st.DeleteIDs != want {
		t.Errorf("%d ids sent, want each of the %d planned ids once", st.DeleteIDs, want)
	}
	for _, c := range sizes {
		if c.n > 100 {
			t.Errorf("a delete call carried %d ids, more than 100", c.n)
		}
	}
	for _, r := range reqs {
		if ps := h.sim.Lookup(r.Email, r.UserID); len(ps) > 0 {
			t.Errorf("request %s: the simulator still holds %d profile(s)", r.ID, len(ps))
		}
	}
	h.noViolations()
}

// TestDeletionVerifiedAcrossRuns deletes with CleverTap's 48 h delay on
// the simulator's clock: the first run leaves the deletions pending, later
// runs verify them. A subject looked up by email alone whose email an
// orphan profile shares is found again after the first delete: that
// profile is deleted too, and verified by a third run.
func TestDeletionVerifiedAcrossRuns(t *testing.T) {
	ds := dataset(40)
	h := newHarness(t, ds, ctsim.Options{DeletionDelay: 48 * time.Hour})
	pk := newPicker(ds)
	reqs := deletionRequests(t, pk, 9, pk.single)
	orphan := batch.Request{ID: "del-orphan", Type: batch.Deletion, Email: strings.ToLower(pk.pick(t, pk.orphaned).Email)}
	all := append(slices.Clone(reqs), orphan)
	h.store.Add(all...)

	h.mustRun()
	wantAll(t, h, all, batch.StatusDeleteSubmitted, "run 1")
	if n := len(h.sim.PendingDeletions()); n == 0 {
		t.Fatal("run 1: the simulator has no pending deletion")
	}

	h.sim.Advance(49 * time.Hour)
	h.mustRun()
	wantAll(t, h, reqs, batch.StatusVerified, "run 2")
	rec, _ := h.store.Get(orphan.ID)
	if rec.Status != batch.StatusDeleteSubmitted || !strings.Contains(rec.Detail, "predate the delete") || rec.Plan.Profiles != 2 {
		t.Errorf("run 2: orphan request is %s (%q) with %d planned profiles; want pending, extended to 2 profiles",
			rec.Status, rec.Detail, rec.Plan.Profiles)
	}

	h.sim.Advance(49 * time.Hour)
	h.mustRun()
	wantAll(t, h, all, batch.StatusVerified, "run 3")
	for _, r := range all {
		if ps := h.sim.Lookup(r.Email, r.UserID); len(ps) > 0 {
			t.Errorf("request %s verified but the simulator still holds %d profile(s)", r.ID, len(ps))
		}
		if rec, _ := h.store.Get(r.ID); rec.CompletedAt.IsZero() || len(rec.Checks) == 0 {
			t.Errorf("request %s: completed at %v after %d checks", r.ID, rec.CompletedAt, len(rec.Checks))
		}
	}
	h.noViolations()
}

// TestDeletionOutcomes covers the verdicts of a verification search.
func TestDeletionOutcomes(t *testing.T) {
	type step struct {
		advance time.Duration
		before  func(h *harness, p ctsim.Profile) // runs before the run
		want    batch.Status
		detail  string
	}
	for _, tc := range []struct {
		name     string
		delay    time.Duration
		deadline time.Duration
		orphan   bool // the subject is looked up by the email an orphan shares
		steps    []step
	}{
		{
			name: "verified once gone", delay: time.Hour,
			steps: []step{{0, nil, batch.StatusDeleteSubmitted, ""}, {2 * time.Hour, nil, batch.StatusVerified, "no profile left"}},
		},
		{
			name: "reappeared as a new profile", delay: time.Hour,
			steps: []step{
				{0, nil, batch.StatusDeleteSubmitted, ""},
				{2 * time.Hour, func(h *harness, p ctsim.Profile) { h.sim.Recreate(p.Identity, p.Email) }, batch.StatusReappeared, "came back as a new profile"},
			},
		},
		{
			name: "failed past the deadline", delay: 96 * time.Hour, deadline: 72 * time.Hour,
			steps: []step{
				{0, nil, batch.StatusDeleteSubmitted, ""},
				{24 * time.Hour, nil, batch.StatusDeleteSubmitted, "still present"},
				{49 * time.Hour, nil, batch.StatusFailed, "still present 73h"},
			},
		},
		{
			// The orphan is deleted 49 h after the first delete; it must
			// get its own 72 h, not fail at 72 h after the first.
			name: "orphan found later gets its own deadline", delay: 48 * time.Hour, deadline: 72 * time.Hour, orphan: true,
			steps: []step{
				{0, nil, batch.StatusDeleteSubmitted, ""},
				{49 * time.Hour, nil, batch.StatusDeleteSubmitted, "predate the delete"},
				{24 * time.Hour, nil, batch.StatusDeleteSubmitted, "still present"},
				{25 * time.Hour, nil, batch.StatusVerified, "no profile left"},
			},
		},
		{
			// CleverTap refuses the orphan's delete: the next check finds
			// the orphan again and deletes it then.
			name: "orphan delete refused is sent again", delay: 48 * time.Hour, deadline: 72 * time.Hour, orphan: true,
			steps: []step{
				{0, nil, batch.StatusDeleteSubmitted, ""},
				{49 * time.Hour, func(h *harness, _ ctsim.Profile) {
					for nth := 1; nth <= 5; nth++ { // every attempt the client makes
						h.sim.InjectFault("delete", nth, ctsim.Fault500)
					}
				}, batch.StatusDeleteSubmitted, ""},
				{time.Hour, nil, batch.StatusDeleteSubmitted, "predate the delete"},
				{49 * time.Hour, nil, batch.StatusVerified, "no profile left"},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ds := dataset(16)
			h := newHarness(t, ds, ctsim.Options{DeletionDelay: tc.delay})
			pk := newPicker(ds)
			var p ctsim.Profile
			var req batch.Request
			if tc.orphan {
				p = pk.pick(t, pk.orphaned)
				req = batch.Request{ID: "del-1", Type: batch.Deletion, Email: strings.ToLower(p.Email)}
			} else {
				p = pk.pick(t, pk.single)
				req = batch.Request{ID: "del-1", Type: batch.Deletion, Email: strings.ToLower(p.Email), UserID: p.Identity}
			}
			h.store.Add(req)
			for i, s := range tc.steps {
				h.sim.Advance(s.advance)
				if s.before != nil {
					s.before(h, p)
				}
				h.mustRun(func(c *batch.Config, d *batch.Deps) {
					if tc.deadline > 0 {
						c.VerifyDeadline = tc.deadline
					}
				})
				rec, _ := h.store.Get(req.ID)
				if rec.Status != s.want || !strings.Contains(rec.Detail, s.detail) {
					t.Fatalf("run %d: status %s, detail %q; want %s with %q", i+1, rec.Status, rec.Detail, s.want, s.detail)
				}
			}
			h.noViolations()
		})
	}
}

// TestDeletionCompleteOnSubmit: with CompleteOnSubmit an accepted delete
// is done; nothing is searched again, in this run or the next.
func TestDeletionCompleteOnSubmit(t *testing.T) {
	ds := dataset(20)
	h := newHarness(t, ds, ctsim.Options{DeletionDelay: 48 * time.Hour})
	pk := newPicker(ds)
	reqs := deletionRequests(t, pk, 6, pk.single)
	h.store.Add(reqs...)
	lookups := int64(0)
	for _, r := range reqs {
		if r.Email != "" {
			lookups++
		}
		if r.UserID != "" {
			lookups++
		}
	}
	progress := &batch.Progress{}
	h.mustRun(func(c *batch.Config, d *batch.Deps) {
		c.CompleteOnSubmit = true
		c.VerifyWindow = time.Minute
		d.Progress = progress
	})
	wantAll(t, h, reqs, batch.StatusDeleteAccepted, "run 1")
	if got := h.sim.Stats().Calls["profile"]; got != lookups {
		t.Errorf("%d profile lookups, want only the %d of resolving the subjects", got, lookups)
	}
	if got := progress.Finished.Load(); got != int64(len(reqs)) {
		t.Errorf("progress counts %d finished, want %d", got, len(reqs))
	}

	before := h.wire.requests.Load()
	h.sim.Advance(49 * time.Hour)
	start := time.Now()
	h.mustRun(func(c *batch.Config, d *batch.Deps) { c.CompleteOnSubmit = true; c.VerifyWindow = time.Minute })
	if n := h.wire.requests.Load() - before; n != 0 {
		t.Errorf("a second run made %d API calls, want none", n)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a second run with nothing to do took %v", d)
	}
	h.noViolations()
}

// TestDeletionVerifiedWithinRun: with no deletion delay and the real
// clock, a run verifies its own deletes within its verify window and
// returns as soon as none is left pending.
func TestDeletionVerifiedWithinRun(t *testing.T) {
	ds := dataset(30)
	h := newHarness(t, ds, ctsim.Options{NoDeletionDelay: true})
	pk := newPicker(ds)
	reqs := deletionRequests(t, pk, 8, pk.single)
	h.store.Add(reqs...)
	start := time.Now()
	h.mustRun(func(c *batch.Config, d *batch.Deps) {
		d.Now = time.Now
		c.VerifyFirst = 20 * time.Millisecond
		c.VerifyWindow = 20 * time.Second
		c.DeleteBatchWait = 20 * time.Millisecond
	})
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("run took %v: it should end once every deletion is verified, not wait out the window", d)
	}
	wantAll(t, h, reqs, batch.StatusVerified, "run")
	h.noViolations()
}

// TestDeleterSendsFullBatches: a queue is sent when it is full or when its
// own oldest id has waited DeleteBatchWait. Identities trickle in slowly
// here while guids fill a batch every few requests: the identities' wait
// must not flush a half-full guid batch.
func TestDeleterSendsFullBatches(t *testing.T) {
	ds := &ctsim.Dataset{Account: ctsim.Account{ID: ctsim.DemoAccountID, Passcodes: []string{ctsim.DemoPasscode}}}
	var reqs []batch.Request
	for i := range 150 {
		p := ctsim.Profile{Identity: fmt.Sprintf("u-%03d", i), Email: fmt.Sprintf("p%03d@example.com", i)}
		for j := range 20 {
			p.Devices = append(p.Devices, ctsim.Device{ObjectID: fmt.Sprintf("__%03d-%02d", i, j), Platform: "Android"})
		}
		ds.Profiles = append(ds.Profiles, p)
		reqs = append(reqs, batch.Request{ID: fmt.Sprintf("del-%03d", i), Type: batch.Deletion, UserID: p.Identity})
	}
	// One lookup of 8 ms a request, one request at a time: guids fill a
	// batch every 5 requests (40 ms), identities wait their 600 ms at least
	// once in the 1.2 s or more the run takes.
	h := newHarness(t, ds, ctsim.Options{NoDeletionDelay: true, Latency: map[string]time.Duration{"profile": 8 * time.Millisecond}})
	h.store.Add(reqs...)
	h.mustRun(func(c *batch.Config, d *batch.Deps) { c.Workers = 1; c.DeleteBatchWait = 600 * time.Millisecond })

	wantAll(t, h, reqs, batch.StatusDeleteSubmitted, "run")
	sizes := h.wire.deletes()
	guidCalls, partial, identCalls := 0, 0, 0
	for _, c := range sizes {
		switch {
		case c.kind != "guid":
			identCalls++
		case c.n == 100:
			guidCalls++
		default:
			partial++
		}
	}
	// 3,000 guids make 30 full calls; identities (1 per request) go in
	// between, when theirs is due, and at the end.
	if guidCalls != 30 || partial > 0 || identCalls < 2 {
		t.Errorf("delete calls %v: %d full guid calls, %d partial ones, %d identity calls; want 30, 0 and at least 2",
			sizes, guidCalls, partial, identCalls)
	}
	h.noViolations()
}

// TestDeletesSentBeforeAccessEnds: once every deletion has been handed to
// the batcher, what it holds is sent, not kept until the access work of
// the run is done.
func TestDeletesSentBeforeAccessEnds(t *testing.T) {
	ds, acc, del := mixedCase(t, 60, 12, 3)
	h := newHarness(t, ds, ctsim.Options{NoDeletionDelay: true, Latency: map[string]time.Duration{"events": 15 * time.Millisecond}})
	h.store.Add(append(acc, del...)...)
	var firstDelete, lastEvents atomic.Int64
	h.wire.onPath = func(path string) {
		now := time.Now().UnixNano()
		switch path {
		case "/1/delete/profiles.json":
			firstDelete.CompareAndSwap(0, now)
		case "/1/events.json":
			lastEvents.Store(now)
		}
	}
	h.mustRun(func(c *batch.Config, d *batch.Deps) { c.Workers = 4; c.DeleteBatchWait = time.Hour })
	if firstDelete.Load() == 0 || firstDelete.Load() > lastEvents.Load() {
		t.Errorf("first delete call %v after the last event export call; want it as soon as the deletions were planned",
			time.Duration(firstDelete.Load()-lastEvents.Load()))
	}
	wantAll(t, h, del, batch.StatusDeleteSubmitted, "run")
}
