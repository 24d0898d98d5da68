package batch_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/clevertap"
	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// mixedCase is a dataset and some access and deletion requests of
// distinct subjects.
func mixedCase(tb testing.TB, profiles, access, deletion int) (*ctsim.Dataset, []batch.Request, []batch.Request) {
	ds := dataset(profiles)
	pk := newPicker(ds)
	var acc []batch.Request
	for i := range access {
		p := pk.pick(tb, any_)
		r := batch.Request{ID: fmt.Sprintf("acc-%03d", i), Type: batch.Access, Email: strings.ToLower(p.Email)}
		if i%2 == 1 && p.Identity != "" {
			r.UserID = p.Identity
		}
		acc = append(acc, r)
	}
	return ds, acc, deletionRequests(tb, pk, deletion, any_)
}

// TestFaultsAbsorbed injects bursts of 429, 500 and connection resets into
// every API group: the client's retries absorb them, no request records a
// failure, and the outputs are exact.
func TestFaultsAbsorbed(t *testing.T) {
	for _, fault := range []ctsim.Fault{ctsim.Fault429, ctsim.Fault500, ctsim.FaultReset} {
		t.Run(string(fault), func(t *testing.T) {
			t.Parallel()
			ds, acc, del := mixedCase(t, 40, 6, 6)
			h := newHarness(t, ds, ctsim.Options{NoDeletionDelay: true},
				clevertap.WithRetry(clevertap.RetryPolicy{MaxAttempts: 8, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}))
			// Two bursts where calls are many, one where they are few
			// (a handful of deletions make two delete calls).
			bursts := map[string][]int{"profile": {1, 2, 3, 7, 8}, "events": {1, 2, 3, 7, 8}, "delete": {1, 2, 3}}
			for group, nths := range bursts {
				for _, nth := range nths {
					h.sim.InjectFault(group, nth, fault)
				}
			}
			h.store.Add(append(acc, del...)...)
			h.mustRun(func(c *batch.Config, d *batch.Deps) {
				d.Now = time.Now
				c.VerifyFirst = 10 * time.Millisecond
				c.VerifyWindow = 10 * time.Second
			})

			for _, r := range acc {
				checkAccess(t, h, r)
			}
			wantAll(t, h, del, batch.StatusVerified, "run")
			for _, rec := range h.store.All() {
				if rec.Attempts != 0 {
					t.Errorf("request %s recorded %d failed attempt(s): %+v", rec.Request.ID, rec.Attempts, rec.LastFailure)
				}
			}
			if n := h.sim.Stats().Faults[string(fault)]; n != 13 {
				t.Errorf("%d faults injected, want all 13", n)
			}
			h.noViolations()
		})
	}
}

// TestBadCredentialsStopTheRun: a 401 stops the run at once with ErrFatal,
// whatever call meets it first, and records nothing against any request.
func TestBadCredentialsStopTheRun(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, h *harness, p ctsim.Profile) batch.Request
	}{
		{"access lookup", func(t *testing.T, h *harness, p ctsim.Profile) batch.Request {
			return batch.Request{ID: "r1", Type: batch.Access, Email: strings.ToLower(p.Email)}
		}},
		{"deletion lookup", func(t *testing.T, h *harness, p ctsim.Profile) batch.Request {
			return batch.Request{ID: "r1", Type: batch.Deletion, UserID: p.Identity}
		}},
		{"delete of a planned deletion", func(t *testing.T, h *harness, p ctsim.Profile) batch.Request {
			r := batch.Request{ID: "r1", Type: batch.Deletion, UserID: p.Identity}
			h.store.Add(r)
			// Guids only: with identities too, two delete calls would go at once.
			mustDo(t, h.store.PlanDeletion(t.Context(), "earlier", r.ID, batch.DeletionPlan{ObjectIDs: simIDs(p), Profiles: 1}))
			return r
		}},
		{"verification search", func(t *testing.T, h *harness, p ctsim.Profile) batch.Request {
			r := batch.Request{ID: "r1", Type: batch.Deletion, UserID: p.Identity}
			h.store.Add(r)
			mustDo(t, h.store.PlanDeletion(t.Context(), "earlier", r.ID, batch.DeletionPlan{ObjectIDs: simIDs(p), Identities: []string{p.Identity}, Profiles: 1}))
			mustDo(t, h.store.MarkDeleteSubmitted(t.Context(), "earlier", []string{r.ID}, h.sim.Now().Add(-time.Hour), h.sim.Now().Add(-time.Minute)))
			return r
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds := dataset(8)
			h := newHarness(t, ds, ctsim.Options{})
			p := newPicker(ds).pick(t, withIdentity)
			req := tc.setup(t, h, p)
			if _, ok := h.store.Get(req.ID); !ok {
				h.store.Add(req)
			}
			before, _ := h.store.Get(req.ID)
			bad := mustClient(t, h.srv.URL, "wrong-passcode")
			start := time.Now()
			err := h.run(t.Context(), func(c *batch.Config, d *batch.Deps) {
				d.API = bad
				c.VerifyWindow = time.Minute
				c.DeleteBatchWait = time.Millisecond
			})
			if !errors.Is(err, batch.ErrFatal) || !errors.Is(err, clevertap.ErrUnauthorized) {
				t.Fatalf("Run: %v; want an error matching ErrFatal and ErrUnauthorized", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Run took %v to stop", d)
			}
			if n := h.wire.requests.Load(); n != 1 {
				t.Errorf("%d API requests, want 1: a 401 is not retried and stops everything", n)
			}
			after, _ := h.store.Get(req.ID)
			if after.Status != before.Status || after.Attempts != 0 {
				t.Errorf("request went %s → %s with %d failed attempts; want it untouched", before.Status, after.Status, after.Attempts)
			}
		})
	}
}

func mustDo(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// TestFailingRequestGivesUp: a request whose calls keep failing records a
// failure per run and fails for good after MaxAttempts runs; a request
// CleverTap refuses as invalid fails at once. The run itself succeeds.
func TestFailingRequestGivesUp(t *testing.T) {
	ds := dataset(8)
	h := newHarness(t, ds, ctsim.Options{FaultRate: 1, FaultKinds: []ctsim.Fault{ctsim.Fault500}},
		clevertap.WithRetry(clevertap.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}))
	p := newPicker(ds).pick(t, withIdentity)
	reqs := []batch.Request{
		{ID: "acc", Type: batch.Access, Email: strings.ToLower(p.Email)},
		{ID: "del", Type: batch.Deletion, UserID: p.Identity},
		{ID: "invalid", Type: batch.Access, Email: " "}, // the client refuses a blank lookup value
	}
	h.store.Add(reqs...)
	const maxAttempts = 3
	for run := 1; run <= maxAttempts; run++ {
		h.mustRun(func(c *batch.Config, d *batch.Deps) { c.MaxAttempts = maxAttempts })
		for _, r := range reqs[:2] {
			rec, _ := h.store.Get(r.ID)
			want := batch.StatusPending
			if run == maxAttempts {
				want = batch.StatusFailed
			}
			if rec.Attempts != run || rec.Status != want || rec.LastFailure.Class != "server" {
				t.Errorf("run %d: request %s has %d attempts, status %s, class %q; want %d, %s, server",
					run, r.ID, rec.Attempts, rec.Status, rec.LastFailure.Class, run, want)
			}
		}
		if rec, _ := h.store.Get("invalid"); rec.Status != batch.StatusFailed || rec.Attempts != 1 || rec.LastFailure.Class != "invalid" {
			t.Errorf("run %d: invalid request: %s after %d attempts (%q); want failed after 1, class invalid",
				run, rec.Status, rec.Attempts, rec.LastFailure.Class)
		}
	}
	if rec, _ := h.store.Get("acc"); !strings.Contains(rec.Detail, "500") {
		t.Errorf("failed request's detail %q does not say why", rec.Detail)
	}
	h.noViolations()
}

// TestCancelMidRun cancels runs at several points: Run returns promptly
// with the context's error, the ledger holds only whole steps and no
// failures, and a second run finishes the work with exact outputs.
func TestCancelMidRun(t *testing.T) {
	for _, after := range []int64{3, 20, 45, 80} {
		t.Run(fmt.Sprintf("after %d requests", after), func(t *testing.T) {
			t.Parallel()
			ds, acc, del := mixedCase(t, 60, 10, 10)
			h := newHarness(t, ds, ctsim.Options{NoDeletionDelay: true,
				Latency: map[string]time.Duration{"profile": 2 * time.Millisecond, "events": 4 * time.Millisecond, "delete": 2 * time.Millisecond}})
			h.store.Add(append(acc, del...)...)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var cancelledAt atomic.Int64
			h.wire.setOnRequest(func(n int64) {
				if n == after {
					cancelledAt.Store(time.Now().UnixNano())
					cancel()
				}
			})
			err := h.run(ctx, func(c *batch.Config, d *batch.Deps) {
				d.Now = time.Now
				c.VerifyFirst = 10 * time.Millisecond
				c.VerifyWindow = time.Minute
				c.DeleteBatchWait = 5 * time.Millisecond
			})
			if err == nil {
				t.Fatalf("the run finished before request %d: choose an earlier cancel point", after)
			}
			if !errors.Is(err, context.Canceled) || errors.Is(err, batch.ErrFatal) {
				t.Fatalf("Run: %v; want the context's error, not ErrFatal", err)
			}
			if d := time.Since(time.Unix(0, cancelledAt.Load())); d > 2*time.Second {
				t.Errorf("Run returned %v after the cancellation", d)
			}
			for _, rec := range h.store.All() {
				if rec.Attempts != 0 {
					t.Errorf("request %s recorded a failure for the interruption: %+v", rec.Request.ID, rec.LastFailure)
				}
				if rec.Status == batch.StatusDeleteSubmitted && (rec.Plan == nil || rec.DeleteRequestedAt.IsZero()) {
					t.Errorf("request %s is delete_submitted without a plan or time", rec.Request.ID)
				}
			}
			for _, r := range acc {
				if rec, _ := h.store.Get(r.ID); rec.Status == batch.StatusDone || rec.Status == batch.StatusNotFound {
					checkAccess(t, h, r)
				}
			}
			h.noViolations()

			h.wire.setOnRequest(func(int64) {})
			h.mustRun(func(c *batch.Config, d *batch.Deps) {
				d.Now = time.Now
				c.VerifyFirst = 10 * time.Millisecond
				c.VerifyWindow = 10 * time.Second
				c.DeleteBatchWait = 5 * time.Millisecond
			})
			for _, r := range acc {
				checkAccess(t, h, r)
			}
			wantAll(t, h, del, batch.StatusVerified, "resumed run")
			h.noViolations()
		})
	}
}

// TestLedgerFailureIsFatal: when the ledger refuses a write the run stops
// with ErrFatal.
func TestLedgerFailureIsFatal(t *testing.T) {
	for _, op := range []string{"SaveProfiles", "BeginEvents", "AppendEvents", "FinishEvents", "SetStatus", "PlanDeletion", "MarkDeleteSubmitted", "RecordCheck"} {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			ds, acc, del := mixedCase(t, 20, 3, 3)
			h := newHarness(t, ds, ctsim.Options{NoDeletionDelay: true})
			h.store.Add(append(acc, del...)...)
			h.store.Add(batch.Request{ID: "zz-unknown", Type: batch.Access, Email: "nobody@example.invalid"})
			diskFull := errors.New("disk full")
			h.store.FailOn = func(got, _ string) error {
				if got == op {
					return diskFull
				}
				return nil
			}
			err := h.run(t.Context(), func(c *batch.Config, d *batch.Deps) {
				d.Now = time.Now
				c.VerifyFirst = 10 * time.Millisecond
				c.VerifyWindow = 10 * time.Second
				c.DeleteBatchWait = 5 * time.Millisecond
			})
			if !errors.Is(err, batch.ErrFatal) || !errors.Is(err, diskFull) {
				t.Fatalf("Run: %v; want ErrFatal wrapping the ledger's error", err)
			}
		})
	}
}

// TestPlannedDeletionGoneAfterCrashIsVerified: the delete went out and
// CleverTap carried it out, but the run died before it recorded the
// acceptance (here: the ledger refused MarkDeleteSubmitted). The next run
// finds no profile. A request whose plan is recorded is deleted by this
// tool, not "not found": it is sent again (deleting is idempotent) and
// verified, with the planned ids kept as evidence.
func TestPlannedDeletionGoneAfterCrashIsVerified(t *testing.T) {
	ds, _, del := mixedCase(t, 20, 0, 4)
	h := newHarness(t, ds, ctsim.Options{NoDeletionDelay: true})
	h.store.Add(del...)
	lost := errors.New("power cut")
	h.store.FailOn = func(op, _ string) error {
		if op == "MarkDeleteSubmitted" {
			return lost
		}
		return nil
	}
	fast := func(c *batch.Config, d *batch.Deps) {
		d.Now = time.Now
		c.VerifyFirst = 10 * time.Millisecond
		c.VerifyWindow = 10 * time.Second
		c.DeleteBatchWait = 5 * time.Millisecond
	}
	if err := h.run(t.Context(), fast); !errors.Is(err, lost) {
		t.Fatalf("first run: %v; want the ledger's refusal", err)
	}
	planned := map[string][]string{} // planned, sent and carried out, not recorded as accepted
	for _, r := range del {
		rec, _ := h.store.Get(r.ID)
		if rec.Status != batch.StatusPending {
			t.Fatalf("after the crash %s is %s; want pending", r.ID, rec.Status)
		}
		if rec.Plan != nil && len(h.sim.Lookup(r.Email, r.UserID)) == 0 {
			planned[r.ID] = rec.Plan.ObjectIDs
		}
	}
	if len(planned) == 0 {
		t.Fatal("no deletion was planned and carried out before the crash")
	}

	h.store.FailOn = nil
	h.mustRun(fast)
	for _, r := range del {
		rec, _ := h.store.Get(r.ID)
		if rec.Status != batch.StatusVerified {
			t.Errorf("%s after the rerun: %s (%s); want verified, not not_found", r.ID, rec.Status, rec.Detail)
		}
		if ids, ok := planned[r.ID]; ok && (rec.Plan == nil || !slices.Equal(rec.Plan.ObjectIDs, ids)) {
			t.Errorf("%s: plan %v after the rerun; want the planned ids %v kept", r.ID, rec.Plan, planned[r.ID])
		}
	}
	h.noViolations()
}
