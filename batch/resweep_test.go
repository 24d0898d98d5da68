package batch_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// The second sweep: a user deleted and verified who comes back (a new
// profile, the same email) is reappeared, with the new objectId; one who
// stays gone is recorded as swept, once.
func TestResweepFindsAUserWhoCameBack(t *testing.T) {
	ds := dataset(12)
	h := newHarness(t, ds, ctsim.Options{NoDeletionDelay: true})
	pk := newPicker(ds)
	back, gone := pk.pick(t, pk.single), pk.pick(t, pk.single)
	h.store.Add(
		batch.Request{ID: "back", Type: batch.Deletion, Email: strings.ToLower(back.Email), UserID: back.Identity},
		batch.Request{ID: "gone", Type: batch.Deletion, Email: strings.ToLower(gone.Email), UserID: gone.Identity},
	)
	h.mustRun()
	h.sim.Advance(time.Hour)
	h.mustRun()
	for _, id := range []string{"back", "gone"} {
		if rec, _ := h.store.Get(id); rec.Status != batch.StatusVerified {
			t.Fatalf("%s after two runs: %s (%s), want verified", id, rec.Status, rec.Detail)
		}
	}
	newID := h.sim.Recreate(back.Identity, back.Email)

	h.sim.Advance(10 * 24 * time.Hour) // not due yet: verified 10 days ago
	h.mustRun()
	if rec, _ := h.store.Get("back"); rec.Status != batch.StatusVerified || !rec.ResweptAt.IsZero() {
		t.Errorf("10 days after verification: %s, swept at %v; want no second sweep yet", rec.Status, rec.ResweptAt)
	}

	h.sim.Advance(21 * 24 * time.Hour)
	h.mustRun()
	rec, _ := h.store.Get("back")
	if rec.Status != batch.StatusReappeared || !strings.Contains(rec.Detail, newID) || rec.ResweptAt.IsZero() {
		t.Errorf("31 days after verification: %s (%q), swept %v; want reappeared naming %s", rec.Status, rec.Detail, rec.ResweptAt, newID)
	}
	rec, _ = h.store.Get("gone")
	if rec.Status != batch.StatusVerified || rec.ResweptAt.IsZero() {
		t.Errorf("the one who stayed gone: %s, swept at %v; want verified and swept", rec.Status, rec.ResweptAt)
	}
	lookups := len(h.wire.lookups)
	h.sim.Advance(40 * 24 * time.Hour)
	h.mustRun()
	if n := len(h.wire.lookups) - lookups; n != 0 {
		t.Errorf("a later run made %d more lookups; each deletion is swept once", n)
	}
	h.noViolations()

	// --resweep-after 0 turns it off.
	off := newHarness(t, ds, ctsim.Options{NoDeletionDelay: true})
	off.store.Add(batch.Request{ID: "x", Type: batch.Deletion, UserID: pk.pick(t, pk.single).Identity})
	off.mustRun()
	off.sim.Advance(time.Hour)
	off.mustRun()
	off.sim.Advance(60 * 24 * time.Hour)
	off.mustRun(func(c *batch.Config, _ *batch.Deps) { c.ResweepAfter = 0 })
	if rec, _ := off.store.Get("x"); !rec.ResweptAt.IsZero() {
		t.Error("swept although --resweep-after 0")
	}
}

// Pointed at the wrong account, a second sweep finds nobody, as it would
// for subjects truly gone: with nobody found anywhere in the run, nothing
// is recorded, and the next run sweeps again.
func TestResweepNeedsTheRightAccount(t *testing.T) {
	ds := dataset(8)
	h := newHarness(t, ds, ctsim.Options{NoDeletionDelay: true})
	p := newPicker(ds).pick(t, withIdentity)
	h.store.Add(batch.Request{ID: "d", Type: batch.Deletion, UserID: p.Identity})
	h.mustRun()
	h.sim.Advance(time.Hour)
	h.mustRun()

	wrong := newHarness(t, &ctsim.Dataset{Account: ds.Account}, ctsim.Options{Now: h.sim.Now().Add(40 * 24 * time.Hour)})
	wrong.store = h.store
	wrong.mustRun()
	if rec, _ := h.store.Get("d"); rec.Status != batch.StatusVerified || !rec.ResweptAt.IsZero() {
		t.Errorf("after a sweep of an empty account: %s, swept at %v; want nothing recorded", rec.Status, rec.ResweptAt)
	}
}
