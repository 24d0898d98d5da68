package batch_test

import (
	"context"
	"iter"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/batch/batchtest"
	"github.com/ctdsr/ctdsr/clevertap"
)

// fakeAPI is a CleverTap that holds one profile per identity and accepts
// every delete, carrying none out: what the real service looks like in
// the minutes after a delete.
type fakeAPI struct{}

func (fakeAPI) Profile(_ context.Context, by clevertap.LookupKey, value string) (*clevertap.Profile, error) {
	if by != clevertap.ByIdentity {
		return nil, clevertap.ErrNotFound
	}
	return &clevertap.Profile{Identity: value, Platforms: []clevertap.Device{{ObjectID: "g-" + value}}}, nil
}

func (fakeAPI) Events(context.Context, clevertap.EventQuery) iter.Seq2[[]clevertap.EventRecord, error] {
	return func(func([]clevertap.EventRecord, error) bool) {}
}

func (fakeAPI) Delete(context.Context, clevertap.DeleteRequest) error { return nil }

// A run whose remaining work is only verifications due after its window
// closes ends at once, saying when the next check is due, instead of
// waiting the window out making no calls. (In a synctest bubble time is
// virtual: the run's duration is what it waited, not how long it ran.)
func TestRunEndsWhenNothingIsDueInItsWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := batchtest.New(
			batch.Request{ID: "d1", Type: batch.Deletion, UserID: "u-1"},
			batch.Request{ID: "d2", Type: batch.Deletion, UserID: "u-2"},
		)
		var logs strings.Builder
		cfg := batch.DefaultConfig()
		cfg.VerifyFirst, cfg.VerifyWindow, cfg.DeleteBatchWait = time.Hour, 2*time.Minute, 0
		r, err := batch.NewRunner(cfg, batch.Deps{RunID: "r1", Store: store, API: fakeAPI{},
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := r.Run(t.Context()); err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited != 0 {
			t.Errorf("the run waited %v; the first checks are due in an hour, after its 2m window", waited)
		}
		for _, id := range []string{"d1", "d2"} {
			if rec, _ := store.Get(id); rec.Status != batch.StatusDeleteSubmitted {
				t.Errorf("%s: %s, want delete_submitted", id, rec.Status)
			}
		}
		if !strings.Contains(logs.String(), "next_check_at=") {
			t.Errorf("the run did not log when the next check is due:\n%s", logs.String())
		}

		// With checks due inside the window, the run does wait for them.
		store2 := batchtest.New(batch.Request{ID: "d3", Type: batch.Deletion, UserID: "u-3"})
		cfg.VerifyFirst = 30 * time.Second
		r, err = batch.NewRunner(cfg, batch.Deps{RunID: "r2", Store: store2, API: fakeAPI{}})
		if err != nil {
			t.Fatal(err)
		}
		start = time.Now()
		if err := r.Run(t.Context()); err != nil {
			t.Fatal(err)
		}
		if rec, _ := store2.Get("d3"); len(rec.Checks) == 0 || time.Since(start) < 30*time.Second {
			t.Errorf("with a check due in 30s of a 2m window: %d checks after %v; want the run to make it",
				len(rec.Checks), time.Since(start))
		}
	})
}
