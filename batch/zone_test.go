package batch_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// An account in India writes event times in IST. Read as UTC they are all
// 5h30 off: the first export shows it, and the run stops before saving any
// event, naming the offset and the --timezone to pass. Read in the
// account's zone, every event time is the true instant.
func TestAccountTimezoneIsCheckedAgainstTheData(t *testing.T) {
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	for _, filter := range []string{"apply", "reject", "ignore"} {
		t.Run(filter, func(t *testing.T) {
			ds := dataset(16)
			ds.Account.Timezone = "Asia/Kolkata"
			pk := newPicker(ds)
			var reqs []batch.Request
			for _, id := range []string{"a1", "a2", "a3", "a4"} {
				reqs = append(reqs, batch.Request{ID: id, Type: batch.Access, Email: strings.ToLower(pk.pick(t, pk.single).Email)})
			}

			wrong := newHarness(t, ds, ctsim.Options{ProfileFilter: filter})
			wrong.store.Add(reqs...)
			cfg, deps := wrong.settings(func(c *batch.Config, _ *batch.Deps) { c.Location = time.UTC }) // the default
			r, err := batch.NewRunner(cfg, deps)
			if err != nil {
				t.Fatal(err)
			}
			err = r.Run(t.Context())
			var ze *batch.ZoneError
			if !errors.As(err, &ze) || !errors.Is(err, batch.ErrFatal) {
				t.Fatalf("Run in UTC on an IST account = %v; want a fatal *ZoneError", err)
			}
			if ze.Offset != 5*time.Hour+30*time.Minute || !strings.Contains(err.Error(), "+05:30") ||
				!strings.Contains(err.Error(), "--timezone Asia/Kolkata") {
				t.Errorf("ZoneError %v: want offset +05:30 and the advice --timezone Asia/Kolkata", err)
			}
			for _, req := range reqs {
				if n := len(wrong.store.Events(req.ID)); n > 0 {
					t.Errorf("%s: %d events saved before the zone was found wrong", req.ID, n)
				}
			}

			right := newHarness(t, ds, ctsim.Options{ProfileFilter: filter})
			right.store.Add(reqs...)
			cfg, deps = right.settings(func(c *batch.Config, _ *batch.Deps) { c.Location = kolkata })
			r, err = batch.NewRunner(cfg, deps)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Run(t.Context()); err != nil {
				t.Fatalf("Run in Asia/Kolkata: %v", err)
			}
			for _, req := range reqs {
				checkAccess(t, right, req) // event times equal the simulator's instants
			}
			if ev := r.ZoneEvidence(); ev.Zone != "Asia/Kolkata" || ev.Agreeing == 0 || ev.Other != 0 || ev.Checked != ev.Agreeing {
				t.Errorf("zone evidence %+v: want every moment checked agreeing with Asia/Kolkata", ev)
			}
		})
	}
}
