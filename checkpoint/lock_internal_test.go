package checkpoint

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"
)

// A holder on another host cannot be checked for life: only a stale
// heartbeat frees its lock.
func TestLockOfAnotherHostWaitsForStaleness(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a := mustOpenInternal(t, path, Options{Now: clock})
	b := mustOpenInternal(t, path, Options{Now: clock})
	a.host, a.pid = "host-a", 4242
	b.alive = func(int) bool { t.Error("checked whether a pid of another host is alive"); return false }
	if _, err := a.BeginRun(t.Context(), RunInfo{}); err != nil {
		t.Fatal(err)
	}

	now = now.Add(DefaultStaleLockAfter)
	var le *LockedError
	if _, err := b.BeginRun(t.Context(), RunInfo{}); !errors.As(err, &le) || le.Host != "host-a" || le.PID != 4242 {
		t.Fatalf("BeginRun = %v, want a LockedError naming pid 4242 on host-a", err)
	}
	now = now.Add(time.Second)
	if _, err := b.BeginRun(t.Context(), RunInfo{}); err != nil {
		t.Fatalf("BeginRun once the heartbeat is stale = %v, want a takeover", err)
	}
}

// A holder on this host whose process is gone loses the lock at once.
func TestLockOfADeadLocalProcessIsTakenOverAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	a := mustOpenInternal(t, path, Options{})
	b := mustOpenInternal(t, path, Options{})
	a.pid = 4242
	var asked int
	b.alive = func(pid int) bool { asked = pid; return false }
	if _, err := a.BeginRun(t.Context(), RunInfo{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.BeginRun(t.Context(), RunInfo{}); err != nil {
		t.Fatalf("BeginRun = %v, want a takeover", err)
	}
	if asked != 4242 {
		t.Errorf("asked whether pid %d is alive, want 4242", asked)
	}
}

func TestKeepAliveHeartbeatsUntilCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "ledger.db"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		runID, err := s.BeginRun(t.Context(), RunInfo{})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- s.KeepAlive(ctx, runID, 20*time.Second) }()

		time.Sleep(65 * time.Second)
		synctest.Wait()
		c, err := s.Counts(t.Context(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if c.Lock == nil || !c.Lock.HeartbeatAt.Equal(start.Add(60*time.Second).Truncate(time.Microsecond)) {
			t.Errorf("heartbeat after 65s = %+v, want the one at 60s", c.Lock)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("KeepAlive after cancel = %v, want nil", err)
		}
	})
}

func TestKeepAliveStopsWhenTheLockIsLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ledger.db")
		a, err := Open(t.Context(), path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		b, err := Open(t.Context(), path, Options{StaleLockAfter: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		runID, err := a.BeginRun(t.Context(), RunInfo{})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		if _, err := b.BeginRun(t.Context(), RunInfo{}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Hour) // of bubble time
		defer cancel()
		if err := a.KeepAlive(ctx, runID, 20*time.Second); !errors.Is(err, ErrLockLost) {
			t.Errorf("KeepAlive after a takeover = %v, want ErrLockLost", err)
		}
	})
}
