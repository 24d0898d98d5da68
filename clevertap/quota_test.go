package clevertap

import (
	"context"
	"errors"
	"math"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestQuotaPerGroup(t *testing.T) {
	tests := []struct {
		q    Quota
		want int
	}{
		{DefaultQuota(), 2},
		{Quota{Concurrency: 3, Share: 0.75}, 2},
		{Quota{Concurrency: 4, Share: 0.75}, 3},
		{Quota{Concurrency: 3, Share: 1}, 3},
		{Quota{Concurrency: 1, Share: 0.5}, 1}, // never below 1
		{Quota{Concurrency: 15, Share: 0.2}, 3},
		{Quota{Concurrency: 10, Share: 0.3}, 3}, // 0.3×10 is 2.9999… in floating point
		{Quota{}, 1},                            // invalid, but never 0
		{Quota{Concurrency: 3, Share: math.NaN()}, 1},
	}
	for _, tt := range tests {
		if got := tt.q.PerGroup(); got != tt.want {
			t.Errorf("%+v.PerGroup() = %d, want %d", tt.q, got, tt.want)
		}
	}
}

func TestQuotaValidate(t *testing.T) {
	tests := []struct {
		name string
		q    Quota
		ok   bool
	}{
		{"default", DefaultQuota(), true},
		{"whole limit with a rate", Quota{Concurrency: 3, Share: 1, RPS: 20}, true},
		{"zero value", Quota{}, false},
		{"share of 0 is not the default", Quota{Concurrency: 3, Share: 0, RPS: 5}, false},
		{"share above 1", Quota{Concurrency: 3, Share: 1.01}, false},
		{"negative share", Quota{Concurrency: 3, Share: -0.5}, false},
		{"NaN share", Quota{Concurrency: 3, Share: math.NaN()}, false},
		{"infinite share", Quota{Concurrency: 3, Share: math.Inf(1)}, false},
		{"concurrency 0", Quota{Concurrency: 0, Share: 0.75}, false},
		{"negative concurrency", Quota{Concurrency: -3, Share: 0.75}, false},
		{"negative rate", Quota{Concurrency: 3, Share: 0.75, RPS: -1}, false},
		{"NaN rate", Quota{Concurrency: 3, Share: 0.75, RPS: math.NaN()}, false},
		{"infinite rate", Quota{Concurrency: 3, Share: 0.75, RPS: math.Inf(1)}, false},
	}
	for _, tt := range tests {
		if err := tt.q.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: %+v.Validate() = %v, want ok %v", tt.name, tt.q, err, tt.ok)
		}
		_, err := NewClient(WithCredentials("ACC", "pc"), WithQuota(tt.q))
		if (err == nil) != tt.ok {
			t.Errorf("%s: WithQuota(%+v) = %v, want ok %v", tt.name, tt.q, err, tt.ok)
		}
	}
}

func TestQuotaPerSecond(t *testing.T) {
	tests := []struct {
		q    Quota
		want float64
	}{
		{DefaultQuota(), 0},
		{Quota{Concurrency: 3, Share: 0.75, RPS: 10}, 7.5},
		{Quota{Concurrency: 3, Share: 1, RPS: 4}, 4},
	}
	for _, tt := range tests {
		if got := tt.q.PerSecond(); got != tt.want {
			t.Errorf("%+v.PerSecond() = %v, want %v", tt.q, got, tt.want)
		}
	}
}

func TestClientExposesItsQuota(t *testing.T) {
	q := Quota{Concurrency: 5, Share: 0.6, RPS: 2}
	c := mustClient(t, WithCredentials("ACC", "pc"), WithQuota(q))
	if c.Quota() != q || c.PerGroup() != 3 {
		t.Errorf("Quota() = %+v, PerGroup() = %d; want %+v and 3", c.Quota(), c.PerGroup(), q)
	}
	if d := mustClient(t, WithCredentials("ACC", "pc")); d.Quota() != DefaultQuota() || d.PerGroup() != 2 {
		t.Errorf("default client: Quota() = %+v, PerGroup() = %d", d.Quota(), d.PerGroup())
	}
	for g, gt := range c.gates {
		if capNow, _ := gt.state(); capNow != 3 {
			t.Errorf("group %s starts with cap %d, want K = 3", g, capNow)
		}
	}
}

func TestGateBlocksAtCapAndHandsOnInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGate(2)
		ctx := t.Context()
		for range 2 {
			if err := g.acquire(ctx); err != nil {
				t.Fatal(err)
			}
		}
		var order []int
		got := make(chan int, 2)
		for i := 1; i <= 2; i++ {
			go func() {
				if g.acquire(ctx) == nil {
					got <- i
				}
			}()
			synctest.Wait() // waiter i is queued before the next one starts
		}
		if len(got) != 0 {
			t.Fatalf("a third request got a slot while 2 of 2 were taken")
		}
		g.release()
		synctest.Wait()
		order = append(order, <-got)
		g.release()
		synctest.Wait()
		order = append(order, <-got)
		if order[0] != 1 || order[1] != 2 {
			t.Errorf("slots handed on in order %v, want [1 2]", order)
		}
		if _, maxSeen := g.state(); maxSeen != 2 {
			t.Errorf("max in flight = %d, want 2", maxSeen)
		}
	})
}

func TestGateWaitEndsWithTheContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGate(1)
		if err := g.acquire(t.Context()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		err := g.acquire(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("acquire = %v, want the context's deadline", err)
		}
		// The abandoned wait must not have leaked the slot.
		g.release()
		if err := g.acquire(t.Context()); err != nil {
			t.Fatalf("slot lost after an abandoned wait: %v", err)
		}
	})
}

func TestGateShrinksOn429AndRecovers(t *testing.T) {
	g := newGate(3)
	g.answered(true)
	g.answered(true)
	g.answered(true)
	if c, _ := g.state(); c != 1 {
		t.Fatalf("cap after three 429s = %d, want 1 (the floor)", c)
	}
	for range recoverAfter - 1 {
		g.answered(false)
	}
	if c, _ := g.state(); c != 1 {
		t.Fatalf("cap = %d after %d successes, want still 1", c, recoverAfter-1)
	}
	g.answered(false)
	if c, _ := g.state(); c != 2 {
		t.Fatalf("cap = %d after %d successes, want 2", c, recoverAfter)
	}
	g.answered(true) // a 429 resets the streak
	for range 3 * recoverAfter {
		g.answered(false)
	}
	if c, _ := g.state(); c != 3 {
		t.Errorf("cap = %d after a long quiet spell, want K = 3 and no more", c)
	}
}

func TestShrunkenCapHoldsBackWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGate(2)
		g.answered(true) // cap 1
		if err := g.acquire(t.Context()); err != nil {
			t.Fatal(err)
		}
		var second atomic.Bool
		go func() {
			if g.acquire(t.Context()) == nil {
				second.Store(true)
			}
		}()
		synctest.Wait()
		if second.Load() {
			t.Fatal("second request admitted while the cap was 1")
		}
		for range recoverAfter {
			g.answered(false)
		}
		synctest.Wait()
		if !second.Load() {
			t.Fatal("recovering the cap did not admit the waiter")
		}
	})
}

func TestBackoffHoldsNoSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// K = 1 for deletes. The first delete fails and backs off for a
		// minute; the second must get the slot meanwhile.
		ft := &fakeTransport{fn: func(n int, _ *http.Request) (*http.Response, error) {
			if n == 1 {
				return canned(503, body503), nil
			}
			return canned(200, bodyOK), nil
		}}
		c := fakeClient(t, ft, WithQuota(Quota{Concurrency: 1, Share: 1}),
			WithRetry(RetryPolicy{BaseDelay: time.Minute, MaxDelay: time.Minute}))
		start := time.Now()
		first := make(chan error, 1)
		go func() { first <- c.Delete(t.Context(), DeleteRequest{GUIDs: []string{"a"}}) }()
		synctest.Wait() // the first is asleep in its backoff
		if err := c.Delete(t.Context(), DeleteRequest{GUIDs: []string{"b"}}); err != nil {
			t.Fatalf("second delete: %v", err)
		}
		if waited := time.Since(start); waited != 0 {
			t.Errorf("second delete waited %v for a slot held during backoff", waited)
		}
		if err := <-first; err != nil {
			t.Fatalf("first delete: %v", err)
		}
	})
}
