package checkpoint_test

import (
	"slices"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
)

// A purged verified deletion has no email or user id left: a second sweep
// could look nothing up, so it is never due one (it would otherwise be
// recorded as swept, and gone, with no lookup made).
func TestResweepDueSkipsPurgedRequests(t *testing.T) {
	ctx := t.Context()
	l := mustLedger(t, del("D1", "one@example.com", "a.csv", 1), del("D2", "two@example.com", "a.csv", 2))
	for i, id := range []string{"D1", "D2"} {
		at := day0.Add(time.Duration(i+1) * time.Hour)
		must(t, "PlanDeletion", l.st.PlanDeletion(ctx, l.runID, id, batch.DeletionPlan{ObjectIDs: []string{"g-" + id}, Profiles: 1}))
		must(t, "MarkDeleteSubmitted", l.st.MarkDeleteSubmitted(ctx, l.runID, []string{id}, day0, day0.Add(time.Minute)))
		must(t, "RecordCheck", l.st.RecordCheck(ctx, l.runID, id, batch.Check{At: at, Status: batch.StatusVerified, Detail: "gone"}))
	}
	due := func() []string {
		t.Helper()
		work, err := l.st.ResweepDue(ctx, day0.Add(24*time.Hour), 10)
		if err != nil {
			t.Fatalf("ResweepDue: %v", err)
		}
		var ids []string
		for _, w := range work {
			ids = append(ids, w.ID)
		}
		return ids
	}
	if got := due(); !slices.Equal(got, []string{"D1", "D2"}) {
		t.Fatalf("due before the purge: %v, want [D1 D2]", got)
	}
	// D1 was verified at +1h, D2 at +2h: a purge of what closed before
	// +90m takes D1's personal data only.
	n, err := l.st.Purge(ctx, l.runID, day0.Add(90*time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("Purge = %d, %v; want 1 request purged", n, err)
	}
	if got := due(); !slices.Equal(got, []string{"D2"}) {
		t.Errorf("due after D1 was purged: %v, want [D2] (a purged request has nothing to look up)", got)
	}
	if got := rawRows(t, l.path, "SELECT reswept_at IS NULL FROM deletions WHERE request_id = 'D1'"); !slices.Equal(got, []string{"1"}) {
		t.Errorf("D1 reswept_at is null: %v, want [1] (never recorded as swept)", got)
	}
}
