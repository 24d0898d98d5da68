package batch_test

import (
	"strings"
	"testing"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// An event name CleverTap lists in a profile's summary but refuses to
// export ("Invalid event : Uninstalled"): the request is finished with its
// other events and says which name is missing and why; the run's summary
// lists the name; the profile filter keeps working for the other names;
// nothing fails or loops.
func TestUnexportableEventName(t *testing.T) {
	for _, filter := range []string{"apply", "reject", "ignore"} {
		t.Run(filter, func(t *testing.T) {
			ds := dataset(12)
			h := newHarness(t, ds, ctsim.Options{ProfileFilter: filter, UnexportableEvents: []string{"Charged"}})
			pk := newPicker(ds)
			var reqs []batch.Request
			for _, id := range []string{"a1", "a2", "a3"} {
				reqs = append(reqs, batch.Request{ID: id, Type: batch.Access, Email: strings.ToLower(pk.pick(t, pk.single).Email)})
			}
			h.store.Add(reqs...)
			var r *batch.Runner
			cfg, deps := h.settings()
			r, err := batch.NewRunner(cfg, deps)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Run(t.Context()); err != nil {
				t.Fatalf("Run: %v", err)
			}
			for _, req := range reqs {
				rec, _ := h.store.Get(req.ID)
				_, events := truth(h.sim, req)
				charged := 0
				for _, e := range events {
					if e.Name == "Charged" {
						charged++
					}
				}
				if rec.Status != batch.StatusDone || rec.Attempts != 0 {
					t.Errorf("%s: %s after %d failed attempts (%s); want done", req.ID, rec.Status, rec.Attempts, rec.Detail)
					continue
				}
				if got := len(h.store.Events(req.ID)); got != len(events)-charged {
					t.Errorf("%s: %d events exported, want the %d that are not Charged", req.ID, got, len(events)-charged)
				}
				if charged > 0 && !strings.Contains(rec.Detail, "refuses to export event(s) Charged (Invalid event : Charged)") {
					t.Errorf("%s: detail %q does not say Charged cannot be exported", req.ID, rec.Detail)
				}
				if strings.Contains(rec.Detail, "differ from CleverTap's summary") {
					t.Errorf("%s: detail %q flags a count mismatch for the refused name", req.ID, rec.Detail)
				}
			}
			if got := r.Unexportable(); got["Charged"] != "Invalid event : Charged" || len(got) != 1 {
				t.Errorf("Unexportable() = %v, want Charged with CleverTap's reason", got)
			}
			// The refusal says nothing of the filter: with a filter that
			// works, every export that succeeded still used it.
			if opens, filtered := h.wire.eventOpens.Load(), h.wire.filteredOpens.Load(); filter == "apply" && (opens == 0 || filtered != opens) {
				t.Errorf("%d event exports succeeded, %d of them filtered; want all filtered", opens, filtered)
			}
		})
	}
}
