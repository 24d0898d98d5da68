package checkpoint_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/checkpoint"
)

// A run takes the ledger, loads a manifest, records an outcome and ends;
// a second run on the same ledger meanwhile is refused.
func Example() {
	dir, err := os.MkdirTemp("", "ctdsr-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	now := func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }

	store, err := checkpoint.Open(ctx, filepath.Join(dir, "ledger.db"), checkpoint.Options{Now: now})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	runID, err := store.BeginRun(ctx, checkpoint.RunInfo{Args: []string{"run", "requests.csv"}, ToolVersion: "v1.0.0"})
	if err != nil {
		log.Fatal(err)
	}

	imp, err := store.NewImporter(ctx, runID, checkpoint.ManifestInfo{
		SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Path:   "requests.csv", Format: "csv",
	})
	if err != nil {
		log.Fatal(err)
	}
	rows := []batch.Request{
		{ID: "REQ-1", Type: batch.Access, Email: "ann@example.com", Source: batch.SourceRef{File: "requests.csv", Row: 2}},
		{ID: "REQ-2", Type: batch.Deletion, UserID: "cust-42", Source: batch.SourceRef{File: "requests.csv", Row: 3}},
		{ID: "REQ-1", Type: batch.Access, Email: "ann@example.com", Source: batch.SourceRef{File: "requests.csv", Row: 4}},
	}
	for _, r := range rows {
		if err := imp.Add(ctx, r); err != nil {
			log.Fatal(err)
		}
	}
	res, err := imp.Finish(ctx, len(rows))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("added %d, merged %d\n", res.Added, res.Merged)

	other, err := checkpoint.Open(ctx, filepath.Join(dir, "ledger.db"), checkpoint.Options{Now: now})
	if err != nil {
		log.Fatal(err)
	}
	defer other.Close()
	if _, err := other.BeginRun(ctx, checkpoint.RunInfo{}); errors.Is(err, checkpoint.ErrLocked) {
		fmt.Println("second run refused: the ledger is in use")
	}

	if err := store.SetStatus(ctx, runID, "REQ-1", batch.StatusDone, "bundle written", now()); err != nil {
		log.Fatal(err)
	}
	if err := store.EndRun(ctx, runID, "ok"); err != nil {
		log.Fatal(err)
	}
	c, err := store.Counts(ctx, 0)
	if err != nil {
		log.Fatal(err)
	}
	for _, sc := range c.ByStatus {
		fmt.Printf("%s %s: %d\n", sc.Type, sc.Status, sc.N)
	}
	fmt.Println("open:", c.Open, "last run:", c.LastRun.Outcome)
	// Output:
	// added 2, merged 1
	// second run refused: the ledger is in use
	// access done: 1
	// deletion pending: 1
	// open: 1 last run: ok
}
