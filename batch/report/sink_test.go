package report

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestSinkManySenders(t *testing.T) {
	path := join(t.TempDir(), "r.parquet")
	w, err := Create[RejectRow](path, MaxRowsPerRowGroup(1000))
	if err != nil {
		t.Fatal(err)
	}
	s := NewSink(w, 64)
	const senders, each = 8, 1000
	var wg sync.WaitGroup
	for g := range senders {
		wg.Go(func() {
			for i := range each {
				row := RejectRow{SourceFile: fmt.Sprintf("f%d.csv", g), SourceRow: int64(i), Reason: "r"}
				if err := s.Send(t.Context(), row); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range readRows[RejectRow](t, path) {
		seen[fmt.Sprintf("%s:%d", r.SourceFile, r.SourceRow)] = true
	}
	if len(seen) != senders*each {
		t.Errorf("read back %d distinct rows, want %d", len(seen), senders*each)
	}
}

func TestSinkSendHonoursContext(t *testing.T) {
	w, err := Create[RejectRow](join(t.TempDir(), "r.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	s := NewSink(w, 1)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	// With a cancelled context, Send either queues (buffer free) or fails
	// with the context's error; it never blocks.
	for range 100 {
		if err := s.Send(ctx, RejectRow{}); err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Send = %v, want context.Canceled", err)
			}
			break
		}
	}
	if err := s.Abort(); err != nil {
		t.Fatal(err)
	}
}
