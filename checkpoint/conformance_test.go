package checkpoint_test

import (
	"path/filepath"
	"testing"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/batch/storetest"
	"github.com/ctdsr/ctdsr/checkpoint"
)

// The ledger passes the batch.Store conformance suite, as the in-memory
// test store does.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T, reqs ...batch.Request) (batch.Store, string) {
			clk := newClock(storetest.T0)
			st := mustOpen(t, filepath.Join(t.TempDir(), "ledger.db"), checkpoint.Options{Now: clk.Now})
			runID := mustBeginRun(t, st)
			for i := range reqs {
				reqs[i].Source.Row = i + 2 // one row each
			}
			mustImport(t, st, runID, manifestInfo("m.csv", t.Name()), reqs, nil)
			return st, runID
		},
		Get: func(t *testing.T, s batch.Store, id string) storetest.Snapshot {
			t.Helper()
			st := s.(*checkpoint.Store)
			rec := mustRequest(t, st, id)
			return storetest.Snapshot{Status: rec.Status, Detail: rec.Detail, Attempts: rec.Attempts,
				Closed:   !rec.CompletedAt.IsZero(),
				Profiles: rawInt(t, st.Path(), "SELECT count(*) FROM access_profiles WHERE request_id = ?", id),
				Events: rawInt(t, st.Path(), `SELECT count(*) FROM access_events e JOIN access_event_parts p
					ON p.part_id = e.part_id WHERE e.request_id = ? AND p.exported`, id),
				Held: rawInt(t, st.Path(), "SELECT count(*) FROM access_events WHERE request_id = ?", id)}
		},
		NextRun: func(t *testing.T, s batch.Store, run string) string {
			t.Helper()
			st := s.(*checkpoint.Store)
			if err := st.EndRun(t.Context(), run, "interrupted"); err != nil {
				t.Fatalf("EndRun: %v", err)
			}
			return mustBeginRun(t, st)
		},
	})
}
