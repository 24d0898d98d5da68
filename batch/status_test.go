package batch_test

import (
	"errors"
	"testing"

	"github.com/ctdsr/ctdsr/batch"
)

func TestLifecycleTable(t *testing.T) {
	seen := map[batch.Status]bool{}
	for _, info := range batch.Statuses() {
		if seen[info.Status] {
			t.Errorf("status %s is in the table twice", info.Status)
		}
		seen[info.Status] = true
		if info.Report == "" || info.Meaning == "" || len(info.Types) == 0 {
			t.Errorf("status %s lacks a report name, a meaning or a type: %+v", info.Status, info)
		}
	}
	for _, info := range batch.Statuses() {
		for _, next := range info.Next {
			if !seen[next] {
				t.Errorf("status %s may move to %s, which is not in the table", info.Status, next)
			}
		}
	}
	// The names the reports have always used.
	for st, want := range map[batch.Status]string{
		batch.StatusPending: "pending", batch.StatusDone: "done", batch.StatusNotFound: "not_found",
		batch.StatusFailed: "failed", batch.StatusDeleteSubmitted: "submitted", batch.StatusDeleteAccepted: "submitted",
		batch.StatusVerified: "verified", batch.StatusReappeared: "reappeared",
	} {
		if got := st.Report(); got != want {
			t.Errorf("%s.Report() = %q, want %q", st, got, want)
		}
	}
}

func TestCheckMove(t *testing.T) {
	for _, c := range []struct {
		typ      batch.RequestType
		from, to batch.Status
		ok       bool
	}{
		{batch.Access, batch.StatusPending, batch.StatusDone, true},
		{batch.Access, batch.StatusPending, batch.StatusVerified, false},
		{batch.Deletion, batch.StatusPending, batch.StatusDone, false},
		{batch.Deletion, batch.StatusPending, batch.StatusDeleteSubmitted, true},
		{batch.Deletion, batch.StatusDeleteSubmitted, batch.StatusDeleteSubmitted, true},
		{batch.Deletion, batch.StatusDeleteSubmitted, batch.StatusVerified, true},
		{batch.Deletion, batch.StatusDeleteSubmitted, batch.StatusDeleteAccepted, true},
		{batch.Deletion, batch.StatusVerified, batch.StatusDeleteSubmitted, false},
		{batch.Access, batch.StatusDone, batch.StatusFailed, false},
		{batch.Access, batch.StatusPending, "finished", false},
		{batch.Access, "finished", batch.StatusDone, false},
	} {
		err := batch.CheckMove(c.typ, c.from, c.to)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, batch.ErrTransition)) {
			t.Errorf("CheckMove(%s, %s → %s) = %v, want ok=%v", c.typ, c.from, c.to, err, c.ok)
		}
	}
}
