package batch_test

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/batch/batchtest"
	"github.com/ctdsr/ctdsr/clevertap"
)

// A run that cannot reach CleverTap at all stops with a fatal error instead
// of leaving every row pending and finishing "ok".
func TestRunUnreachableIsFatal(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there any more: connections are refused

	api, err := clevertap.NewClient(clevertap.WithBaseURL("http://"+addr),
		clevertap.WithCredentials("ACC", "pass"),
		clevertap.WithRetry(clevertap.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	var reqs []batch.Request
	for i := range 30 {
		reqs = append(reqs, batch.Request{ID: fmt.Sprintf("R-%02d", i), Type: batch.Access, UserID: fmt.Sprintf("u-%d", i)})
	}
	store := batchtest.New(reqs...)
	cfg := batch.DefaultConfig()
	cfg.Workers = 4
	r, err := batch.NewRunner(cfg, batch.Deps{RunID: "run-1", Store: store, API: api})
	if err != nil {
		t.Fatal(err)
	}
	err = r.Run(t.Context())
	if !errors.Is(err, batch.ErrFatal) || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("Run against a closed port = %v; want a fatal 'unreachable' error", err)
	}
}
