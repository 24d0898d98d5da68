package batch_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/clevertap"
	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

func TestDryRun(t *testing.T) {
	ds := dataset(12)
	h := newHarness(t, ds, ctsim.Options{NoDeletionDelay: true})
	p := newPicker(ds).pick(t, withIdentity)
	reqs := []batch.Request{
		{ID: "a", Type: batch.Access, Email: strings.ToLower(p.Email)},
		{ID: "d", Type: batch.Deletion, UserID: p.Identity},
		{ID: "n", Type: batch.Deletion, Email: "nobody@example.invalid"},
	}
	cfg := batch.DefaultConfig()
	cfg.Workers = 4
	res, err := batch.DryRun(t.Context(), h.api, reqs, cfg)
	if err != nil {
		t.Fatalf("DryRun: %v", err)
	}
	_, events := truth(h.sim, reqs[0])
	want := []batch.DryRunMatch{
		{RequestID: "a", Type: batch.Access, Profiles: 1, ObjectIDs: len(p.Devices), Events: int64(len(events))},
		{RequestID: "d", Type: batch.Deletion, Profiles: 1, ObjectIDs: len(p.Devices), Events: int64(len(events))},
		{RequestID: "n", Type: batch.Deletion},
	}
	for i, w := range want {
		got := res.Matches[i]
		got.EventNames = 0
		if got != w {
			t.Errorf("match %d: got %+v, want %+v", i, got, w)
		}
	}
	if st := h.sim.Stats(); st.DeleteCalls != 0 || st.Calls["events"] != 0 {
		t.Errorf("a dry run made %d delete calls and %d event calls, want none", st.DeleteCalls, st.Calls["events"])
	}
	if res.Calls["delete"] != 2 || res.Calls["events"] == 0 || res.Projection(2, map[string]time.Duration{"events": time.Second}) <= 0 {
		t.Errorf("projection %v: want 2 delete calls (guids, identities), some event calls and a positive time", res.Calls)
	}
	if ps := h.sim.Lookup(p.Email, p.Identity); len(ps) == 0 {
		t.Error("a dry run deleted the subject")
	}

	bad := mustClient(t, h.srv.URL, "wrong-passcode")
	if _, err := batch.DryRun(t.Context(), bad, reqs, cfg); !errors.Is(err, batch.ErrFatal) || !errors.Is(err, clevertap.ErrUnauthorized) {
		t.Errorf("DryRun with bad credentials: %v; want ErrFatal", err)
	}
}
