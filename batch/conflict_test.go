package batch_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// Two people in one row: the email of one, the user id of another. With
// the default --on-conflict review, neither is exported nor deleted; the
// detail names what contradicts and the request is final.
func TestConflictTwoPeopleInOneRow(t *testing.T) {
	for _, typ := range []batch.RequestType{batch.Access, batch.Deletion} {
		t.Run(string(typ), func(t *testing.T) {
			ds := dataset(24)
			h := newHarness(t, ds, ctsim.Options{NoDeletionDelay: true})
			pk := newPicker(ds)
			alice, bob := pk.pick(t, pk.single), pk.pick(t, pk.single)
			two := batch.Request{ID: "two", Type: typ, Email: strings.ToLower(alice.Email), UserID: bob.Identity}
			// Alice's own email with a user id nobody has: her profile's
			// identity contradicts the row all the same.
			other := batch.Request{ID: "other-id", Type: typ, Email: strings.ToLower(alice.Email), UserID: "u-somebody-else"}
			fine := batch.Request{ID: "fine", Type: typ, Email: strings.ToLower(pk.pick(t, pk.single).Email)}
			h.store.Add(two, other, fine)
			h.mustRun()

			for _, id := range []string{"two", "other-id"} {
				rec, _ := h.store.Get(id)
				if rec.Status != batch.StatusConflict || len(rec.Profiles) != 0 || len(rec.Events) != 0 || rec.Plan != nil {
					t.Errorf("request %s: %s, %d profiles, %d names, plan %v; want conflict with nothing saved or planned",
						id, rec.Status, len(rec.Profiles), len(rec.Events), rec.Plan)
				}
				if !strings.Contains(rec.Detail, "user id") || !strings.Contains(rec.Detail, alice.Devices[0].ObjectID) {
					t.Errorf("request %s: detail %q does not name the field and the objectId", id, rec.Detail)
				}
				if strings.Contains(rec.Detail, alice.Email) || strings.Contains(rec.Detail, bob.Identity) {
					t.Errorf("request %s: detail %q repeats personal data", id, rec.Detail)
				}
			}
			if rec, _ := h.store.Get("two"); !strings.Contains(rec.Detail, "email") || !strings.Contains(rec.Detail, bob.Devices[0].ObjectID) {
				t.Errorf("request two: detail %q does not say Bob's profile has another email", rec.Detail)
			}
			want := batch.StatusDone
			if typ == batch.Deletion {
				want = batch.StatusDeleteSubmitted
			}
			if rec, _ := h.store.Get("fine"); rec.Status != want {
				t.Errorf("request fine: %s (%s), want %s", rec.Status, rec.Detail, want)
			}
			if typ == batch.Deletion {
				if got := len(h.sim.Lookup(alice.Email, bob.Identity)); got != 2 {
					t.Errorf("after the run CleverTap holds %d of Alice's and Bob's profiles, want both", got)
				}
			}
			h.noViolations()
		})
	}
}

// With --on-conflict union a row naming two people is their union, as
// before; the detail still says which profile contradicted what.
func TestConflictUnionDeletesBoth(t *testing.T) {
	ds := dataset(24)
	h := newHarness(t, ds, ctsim.Options{NoDeletionDelay: true})
	pk := newPicker(ds)
	alice, bob := pk.pick(t, pk.single), pk.pick(t, pk.single)
	h.store.Add(batch.Request{ID: "two", Type: batch.Deletion, Email: strings.ToLower(alice.Email), UserID: bob.Identity})
	union := func(c *batch.Config, _ *batch.Deps) { c.OnConflict = batch.ConflictUnion }
	h.mustRun(union)
	rec, _ := h.store.Get("two")
	if rec.Status != batch.StatusDeleteSubmitted || rec.Plan == nil || rec.Plan.Profiles != 2 ||
		!strings.Contains(rec.Plan.Notes, "--on-conflict union") || !strings.Contains(rec.Plan.Notes, bob.Devices[0].ObjectID) {
		t.Fatalf("union run: %s, plan %+v; want both profiles planned and the contradiction noted", rec.Status, rec.Plan)
	}
	h.sim.Advance(time.Hour) // the next check is due
	h.mustRun(union)
	if rec, _ := h.store.Get("two"); rec.Status != batch.StatusVerified {
		t.Errorf("second union run: %s (%s), want verified", rec.Status, rec.Detail)
	}
}

// A lookup answered with another person's record (a proxy, a cache, a bug
// between) is not used: it contradicts the question, so nothing of that
// person is deleted or exported.
func TestConflictWrongPersonAnswer(t *testing.T) {
	for _, typ := range []batch.RequestType{batch.Access, batch.Deletion} {
		t.Run(string(typ), func(t *testing.T) {
			ds := dataset(24)
			h := newHarness(t, ds, ctsim.Options{NoDeletionDelay: true})
			pk := newPicker(ds)
			alice, other := pk.pick(t, pk.single), pk.pick(t, pk.single)
			ask := strings.ToLower(alice.Email)
			rewrite := func(r *http.Request) {
				if r.URL.Path == "/1/profile.json" && r.URL.Query().Get("email") == ask {
					r.URL.RawQuery = "email=" + url.QueryEscape(other.Email)
				}
			}
			h.wire.rewrite.Store(&rewrite)
			h.store.Add(batch.Request{ID: "r1", Type: typ, Email: ask})
			h.mustRun()
			rec, _ := h.store.Get("r1")
			if rec.Status != batch.StatusConflict || len(rec.Profiles) != 0 || len(rec.Events) != 0 || len(h.wire.deletes()) != 0 {
				t.Errorf("%s: %s (%s), %d profiles, %d delete calls; want conflict and nothing used",
					typ, rec.Status, rec.Detail, len(rec.Profiles), len(h.wire.deletes()))
			}
			if len(h.sim.Lookup(other.Email, "")) == 0 {
				t.Error("the other person's profile was deleted")
			}
		})
	}
}

// An email written in decomposed Unicode (NFD) is the same subject as the
// stored composed (NFC) one: no conflict, and the profile is found.
func TestConflictEmailsCompareNormalised(t *testing.T) {
	ds := dataset(8)
	nfc := "jos\u00e9.n\u00fa\u00f1ez@example.com"
	p := &ds.Profiles[0]
	p.Email = strings.ToUpper(nfc[:1]) + nfc[1:]
	h := newHarness(t, ds, ctsim.Options{})
	nfd := norm.NFD.String(nfc)
	if nfd == nfc {
		t.Fatal("test email has no decomposable characters")
	}
	// The manifest reader normalises emails; here the lookup gets the NFC
	// form, and the consistency check must treat the profile's mixed-case
	// NFC email as the row's NFD one.
	h.store.Add(batch.Request{ID: "r1", Type: batch.Access, Email: nfd, UserID: p.Identity})
	h.mustRun()
	rec, _ := h.store.Get("r1")
	if rec.Status == batch.StatusConflict {
		t.Errorf("NFD email of the row vs NFC of the profile: %s (%s), want no conflict", rec.Status, rec.Detail)
	}
}

// The wrong account looks like an empty one: after noMatchLimit subjects
// in a row are not found, the run stops before closing any of them; a run
// against the right account then does them all.
func TestNoMatchesStopsTheRun(t *testing.T) {
	right := dataset(60)
	pk := newPicker(right)
	var reqs []batch.Request
	for i := range 25 {
		p := pk.pick(t, pk.single)
		typ := batch.Access
		if i%2 == 1 {
			typ = batch.Deletion
		}
		reqs = append(reqs, batch.Request{ID: fmt.Sprintf("r-%02d", i), Type: typ, Email: strings.ToLower(p.Email), UserID: p.Identity})
	}
	empty := &ctsim.Dataset{Account: right.Account}
	wrong := newHarness(t, empty, ctsim.Options{})
	wrong.store.Add(reqs...)
	err := wrong.run(t.Context(), func(_ *batch.Config, d *batch.Deps) { d.Account = "ACC-TEST" })
	if !errors.Is(err, batch.ErrNoMatches) || !errors.Is(err, batch.ErrFatal) || !strings.Contains(err.Error(), "ACC-TEST") {
		t.Fatalf("run against an empty account = %v; want a fatal ErrNoMatches naming the account", err)
	}
	for _, r := range reqs {
		if rec, _ := wrong.store.Get(r.ID); rec.Status != batch.StatusPending || rec.Attempts != 0 {
			t.Errorf("request %s after the stopped run: %s, %d attempts; want pending and untouched", r.ID, rec.Status, rec.Attempts)
		}
	}

	// The same ledger against the right account: every row ends right.
	h := newHarness(t, right, ctsim.Options{NoDeletionDelay: true})
	h.store = wrong.store
	h.store.Now = h.sim.Now
	h.mustRun()
	h.sim.Advance(time.Hour) // the first verifications are due
	h.mustRun()
	for i, r := range reqs {
		want := batch.StatusDone
		if i%2 == 1 {
			want = batch.StatusVerified
		}
		if rec, _ := h.store.Get(r.ID); rec.Status != want {
			t.Errorf("request %s against the right account: %s (%s), want %s", r.ID, rec.Status, rec.Detail, want)
		}
	}

	// --expect-no-matches: a manifest that truly has no CleverTap users.
	none := newHarness(t, empty, ctsim.Options{})
	none.store.Add(reqs...)
	none.mustRun(func(c *batch.Config, _ *batch.Deps) { c.ExpectNoMatches = true })
	for _, r := range reqs {
		if rec, _ := none.store.Get(r.ID); rec.Status != batch.StatusNotFound {
			t.Errorf("request %s with --expect-no-matches: %s, want not_found", r.ID, rec.Status)
		}
	}
}

// Fewer misses than the limit are genuine: they are recorded when every
// subject has been looked up.
func TestFewMissesAreRecorded(t *testing.T) {
	ds := dataset(8)
	h := newHarness(t, &ctsim.Dataset{Account: ds.Account}, ctsim.Options{})
	for i := range 19 {
		h.store.Add(batch.Request{ID: fmt.Sprintf("r-%02d", i), Type: batch.Access, Email: fmt.Sprintf("nobody%d@example.invalid", i)})
	}
	h.mustRun()
	if got := h.store.Statuses()[batch.StatusNotFound]; got != 19 {
		t.Errorf("%d of 19 unknown subjects recorded not_found", got)
	}
}

// A second profile with the subject's email but another identity (found
// through the export, which CleverTap's one-record lookup hid) contradicts
// a row that gives the user id: the request ends in conflict before
// anything is exported.
func TestConflictSharedEmailOtherIdentity(t *testing.T) {
	for _, filter := range []string{"apply", "reject"} {
		t.Run(filter, func(t *testing.T) {
			ds := dataset(8)
			ds.Profiles[1].Email = ds.Profiles[0].Email // both have their own identity
			h := newHarness(t, ds, ctsim.Options{ProfileFilter: filter})
			p := ds.Profiles[0]
			h.store.Add(batch.Request{ID: "r1", Type: batch.Access, Email: strings.ToLower(p.Email), UserID: p.Identity})
			h.mustRun()
			rec, _ := h.store.Get("r1")
			if rec.Status != batch.StatusConflict || len(rec.Profiles) != 0 || len(rec.Events) != 0 ||
				!strings.Contains(rec.Detail, ds.Profiles[1].Devices[0].ObjectID) {
				t.Errorf("%s: %s (%s), %d profiles, %d names; want conflict naming the other profile, nothing kept",
					filter, rec.Status, rec.Detail, len(rec.Profiles), len(rec.Events))
			}
		})
	}
}

// At verification, a profile that contradicts the row (the email back
// under another identity) ends the deletion in conflict for a person to
// look at, instead of deleting it or calling it reappeared.
func TestConflictAtVerification(t *testing.T) {
	ds := dataset(8)
	h := newHarness(t, ds, ctsim.Options{NoDeletionDelay: true})
	p := ds.Profiles[0]
	h.store.Add(batch.Request{ID: "d1", Type: batch.Deletion, Email: strings.ToLower(p.Email), UserID: p.Identity})
	h.mustRun(func(c *batch.Config, _ *batch.Deps) { c.VerifyWindow = 0 })
	if rec, _ := h.store.Get("d1"); rec.Status != batch.StatusDeleteSubmitted {
		t.Fatalf("first run: %s (%s)", rec.Status, rec.Detail)
	}
	h.sim.AddProfile(ctsim.Profile{Identity: "u-new-owner", Email: p.Email, CreatedAt: h.sim.Now(),
		Devices: []ctsim.Device{{ObjectID: "__newowner01", Platform: "Android"}}})
	h.sim.Advance(time.Hour)
	h.mustRun()
	rec, _ := h.store.Get("d1")
	if rec.Status != batch.StatusConflict || !strings.Contains(rec.Detail, "__newowner01") || len(h.sim.Lookup("", "u-new-owner")) != 1 {
		t.Errorf("verification: %s (%s); want conflict naming the new profile, which stays", rec.Status, rec.Detail)
	}
}
