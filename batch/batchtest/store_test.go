package batchtest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/batch/batchtest"
	"github.com/ctdsr/ctdsr/batch/storetest"
)

// The in-memory store passes the same conformance suite as the ledger.
func TestConformance(t *testing.T) {
	runs := 1
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T, reqs ...batch.Request) (batch.Store, string) {
			s := batchtest.New(reqs...)
			s.Now = func() time.Time { return storetest.T0 }
			return s, "run-1"
		},
		Get: func(t *testing.T, s batch.Store, id string) storetest.Snapshot {
			t.Helper()
			rec, ok := s.(*batchtest.Store).Get(id)
			if !ok {
				t.Fatalf("no request %s", id)
			}
			events := 0
			for _, evs := range rec.Events {
				events += len(evs)
			}
			return storetest.Snapshot{Status: rec.Status, Detail: rec.Detail, Attempts: rec.Attempts,
				Closed: !rec.CompletedAt.IsZero(), Profiles: len(rec.Profiles), Events: events,
				Held: s.(*batchtest.Store).Held(id)}
		},
		NextRun: func(t *testing.T, s batch.Store, run string) string {
			runs++
			return fmt.Sprintf("run-%d", runs)
		},
	})
}
