package batch_test

import (
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/clevertap"
	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// TestQuotaHeld: CleverTap allows 3 requests in flight per group; at the
// client's share (K = 2) and 16 workers, the simulator never sees more than
// 2 at once in any group and never answers 429, while the busy groups do
// reach 2.
func TestQuotaHeld(t *testing.T) {
	ds, acc, del := mixedCase(t, 80, 16, 16)
	h := newHarness(t, ds, ctsim.Options{
		NoDeletionDelay: true,
		Limits:          map[string]int{"profile": 3, "events": 3, "delete": 3},
		Latency:         map[string]time.Duration{"profile": 5 * time.Millisecond, "events": 20 * time.Millisecond, "delete": 10 * time.Millisecond},
	}, clevertap.WithQuota(clevertap.Quota{Concurrency: 3, Share: 0.75}))
	h.store.Add(append(acc, del...)...)
	progress := &batch.Progress{}
	h.mustRun(func(c *batch.Config, d *batch.Deps) {
		c.Workers = 16
		d.Now = time.Now
		c.VerifyFirst = 20 * time.Millisecond
		c.VerifyWindow = 20 * time.Second
		c.DeleteBatchWait = 20 * time.Millisecond
		d.Progress = progress
	})
	if tot, fin, fail, pend := progress.Total.Load(), progress.Finished.Load(), progress.Failed.Load(), progress.Pending.Load(); tot != 32 || fin != 32 || fail != 0 || pend != 0 {
		t.Errorf("progress: total %d, finished %d, failed %d, pending %d; want 32, 32, 0, 0", tot, fin, fail, pend)
	}

	st := h.sim.Stats()
	t.Logf("calls %v, max in flight %v, 429s %v", st.Calls, st.MaxInFlight, st.TooMany)
	for _, g := range []string{"profile", "events", "delete"} {
		if st.MaxInFlight[g] > 2 {
			t.Errorf("group %s: %d requests in flight at once, want at most K = 2", g, st.MaxInFlight[g])
		}
		if st.TooMany[g] != 0 {
			t.Errorf("group %s: %d answers 429, want none", g, st.TooMany[g])
		}
	}
	for _, g := range []string{"profile", "events"} {
		if st.MaxInFlight[g] != 2 {
			t.Errorf("group %s: at most %d in flight; 16 workers should keep K = 2 busy", g, st.MaxInFlight[g])
		}
	}
	for _, r := range acc {
		checkAccess(t, h, r)
	}
	wantAll(t, h, del, batch.StatusVerified, "run")
	h.noViolations()
}

// TestWorkInterleavesKinds: access requests load the events group and
// deletions the profile group, so a run spreads the two kinds evenly
// instead of taking them in request-ID order (here all access first).
func TestWorkInterleavesKinds(t *testing.T) {
	ds, acc, del := mixedCase(t, 40, 6, 3)
	h := newHarness(t, ds, ctsim.Options{NoDeletionDelay: true})
	h.store.Add(append(acc, del...)...)
	h.mustRun(func(c *batch.Config, d *batch.Deps) { c.Workers = 1 })

	subjectOf := map[string]string{} // lookup query → request id
	for _, r := range append(acc, del...) {
		if r.Email != "" {
			subjectOf["email="+url.QueryEscape(r.Email)] = r.ID
		}
		if r.UserID != "" {
			subjectOf["identity="+url.QueryEscape(r.UserID)] = r.ID
		}
	}
	var order []string
	h.wire.mu.Lock()
	for _, q := range h.wire.lookups {
		if id, ok := subjectOf[q]; ok && !slices.Contains(order, id) {
			order = append(order, id)
		}
	}
	h.wire.mu.Unlock()
	want := []string{"acc-000", "del-000", "acc-001", "acc-002", "del-001", "acc-003", "acc-004", "del-002", "acc-005"}
	if !slices.Equal(order, want) {
		t.Errorf("subjects looked up in the order %v, want %v", order, want)
	}
}
