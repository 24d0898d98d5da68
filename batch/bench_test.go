package batch_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/clevertap"
	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// BenchmarkRun carries out 1,000 access and 1,000 deletion requests against
// the simulator at CleverTap's limit of 3 in flight per group (the client
// uses K = 2) with 20 ms per call, deletions taking effect at once and
// verified within the run. It reports wall time against the ideal of
// calls × latency ÷ K, overall and per group (groups run side by side, so
// the busiest group bounds the run), the most requests seen in flight, 429
// answers, calls per subject and ids per delete call. The simulator and the
// client share the machine, so a call takes somewhat longer than its 20 ms:
// wall/ideal_measured divides by the busiest group's ideal at the mean time
// calls really took, which isolates the run's scheduling.
//
//	go test -run '^$' -bench BenchmarkRun -benchtime 1x ./batch/
func BenchmarkRun(b *testing.B) {
	const (
		latency  = 20 * time.Millisecond
		k        = 2
		access   = 1000
		deletion = 1000
	)
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 3, Profiles: 2200, EventsPerProfile: 3, SharedEmailEvery: 25})
	for b.Loop() {
		h := newHarness(b, ds, ctsim.Options{
			NoDeletionDelay: true,
			Limits:          map[string]int{"profile": 3, "events": 3, "delete": 3},
			Latency:         map[string]time.Duration{"profile": latency, "events": latency, "delete": latency},
		}, clevertap.WithQuota(clevertap.Quota{Concurrency: 3, Share: 0.75}))
		pk := newPicker(ds)
		var reqs []batch.Request
		lookups := 0 // profile lookups resolving access subjects
		for i := range access {
			p := pk.pick(b, any_)
			r := batch.Request{ID: fmt.Sprintf("acc-%04d", i), Type: batch.Access, Email: strings.ToLower(p.Email)}
			if i%2 == 1 {
				r.UserID = p.Identity
			}
			if r.Email != "" {
				lookups++
			}
			if r.UserID != "" {
				lookups++
			}
			reqs = append(reqs, r)
		}
		for i := range deletion {
			p := pk.pick(b, any_)
			r := batch.Request{ID: fmt.Sprintf("del-%04d", i), Type: batch.Deletion, Email: strings.ToLower(p.Email)}
			if i%2 == 1 {
				r.UserID = p.Identity
			}
			reqs = append(reqs, r)
		}
		h.store.Add(reqs...)

		start := time.Now()
		h.mustRun(func(c *batch.Config, d *batch.Deps) {
			d.Now = time.Now
			c.VerifyFirst = 100 * time.Millisecond
			c.VerifyWindow = 5 * time.Minute
		})
		wall := time.Since(start)

		st := h.sim.Stats()
		for _, s := range []batch.Status{batch.StatusDone, batch.StatusVerified, batch.StatusNotFound} {
			b.Logf("%s: %d", s, h.store.Statuses()[s])
		}
		if n := h.store.Statuses()[batch.StatusDone] + h.store.Statuses()[batch.StatusVerified] + h.store.Statuses()[batch.StatusNotFound]; n != len(reqs) {
			b.Fatalf("%d of %d requests finished: %v", n, len(reqs), h.store.Statuses())
		}
		total, worst, measured := int64(0), time.Duration(0), time.Duration(0)
		for _, g := range []string{"profile", "events", "delete"} {
			n := st.Calls[g]
			total += n
			ideal := time.Duration(n) * latency / k
			worst = max(worst, ideal)
			measured = max(measured, h.wire.servedFor(g)/k)
			b.ReportMetric(float64(h.wire.servedFor(g))/float64(time.Millisecond)/float64(max(n, 1)), "ms/call_"+g)
			b.ReportMetric(float64(wall)/float64(ideal), "wall/ideal_"+g)
			b.ReportMetric(float64(n), "calls_"+g)
			b.ReportMetric(float64(st.MaxInFlight[g]), "max_in_flight_"+g)
		}
		ideal := time.Duration(total) * latency / k
		objectLookups := h.wire.objectLookups.Load()
		accessCalls := int64(lookups) + objectLookups + st.Calls["events"]
		deletionCalls := st.Calls["profile"] - int64(lookups) - objectLookups + st.Calls["delete"]
		tooMany := int64(0)
		for _, n := range st.TooMany {
			tooMany += n
		}
		b.ReportMetric(wall.Seconds(), "wall_s")
		b.ReportMetric(float64(wall)/float64(ideal), "wall/ideal")
		b.ReportMetric(float64(wall)/float64(worst), "wall/ideal_busiest")
		b.ReportMetric(float64(wall)/float64(measured), "wall/ideal_measured")
		b.ReportMetric(float64(tooMany), "429s")
		b.ReportMetric(float64(accessCalls)/access, "calls/access")
		b.ReportMetric(float64(deletionCalls)/deletion, "calls/deletion")
		b.ReportMetric(float64(st.DeleteIDs)/float64(max(st.DeleteCalls, 1)), "ids/delete_call")
		// Orphan profiles found by verification searches are deleted at
		// once, one small call each; the rest go through the batcher.
		small, smallIDs := 0, 0
		for _, c := range h.wire.deletes() {
			if c.n < 10 {
				small++
				smallIDs += c.n
			}
		}
		batched := int(st.DeleteCalls) - small
		b.ReportMetric(float64(int(st.DeleteIDs)-smallIDs)/float64(max(batched, 1)), "ids/batched_delete_call")
		b.Logf("delete calls: %d batched, %d with under 10 ids (%d ids)", batched, small, smallIDs)
		b.Logf("wall %v; ideal %v (all calls), %v (busiest group); calls %v; object lookups %d; delete ids %d in %d calls",
			wall.Round(time.Millisecond), ideal, worst, st.Calls, objectLookups, st.DeleteIDs, st.DeleteCalls)
	}
}
