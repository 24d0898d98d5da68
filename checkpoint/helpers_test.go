package checkpoint_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/batch/storetest"
	"github.com/ctdsr/ctdsr/checkpoint"
)

func mustOpen(tb testing.TB, path string, opts checkpoint.Options) *checkpoint.Store {
	tb.Helper()
	st, err := checkpoint.Open(tb.Context(), path, opts)
	if err != nil {
		tb.Fatalf("Open(%s): %v", path, err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

func mustBeginRun(tb testing.TB, st *checkpoint.Store) string {
	tb.Helper()
	runID, err := st.BeginRun(tb.Context(), checkpoint.RunInfo{Args: []string{"run"}, ToolVersion: "test"})
	if err != nil {
		tb.Fatalf("BeginRun: %v", err)
	}
	return runID
}

// manifestInfo names a manifest whose SHA-256 is derived from content, a
// stand-in for the file's bytes.
func manifestInfo(path, content string) checkpoint.ManifestInfo {
	sum := sha256.Sum256([]byte(content))
	return checkpoint.ManifestInfo{SHA256: hex.EncodeToString(sum[:]), Path: path, Format: "csv"}
}

// mustImport imports reqs and rejects as one manifest and returns what
// the import did.
func mustImport(tb testing.TB, st *checkpoint.Store, runID string, m checkpoint.ManifestInfo,
	reqs []batch.Request, rejs []batch.Reject) checkpoint.ImportResult {
	tb.Helper()
	imp, err := st.NewImporter(tb.Context(), runID, m)
	if err != nil {
		tb.Fatalf("NewImporter(%s): %v", m.Path, err)
	}
	for _, r := range reqs {
		if err := imp.Add(tb.Context(), r); err != nil {
			tb.Fatalf("Add(%s): %v", r.ID, err)
		}
	}
	for _, r := range rejs {
		if err := imp.Reject(tb.Context(), r); err != nil {
			tb.Fatalf("Reject(row %d): %v", r.SourceRow, err)
		}
	}
	res, err := imp.Finish(tb.Context(), len(reqs)+len(rejs))
	if err != nil {
		tb.Fatalf("Finish(%s): %v", m.Path, err)
	}
	return res
}

var day0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// req is a valid access request read at file:row.
func req(id, email, file string, row int) batch.Request {
	return batch.Request{
		ID: id, Type: batch.Access, Email: email,
		SubmittedAt: day0, DueAt: day0.Add(batch.DefaultDueAfter),
		Source: batch.SourceRef{File: file, Row: row},
	}
}

// rawQuery runs a read-only query on the ledger file outside the Store and
// returns the single integer it yields, for checking what is on disk.
func rawInt(tb testing.TB, path, query string, args ...any) int {
	tb.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(tb.Context(), query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// mode is a file's permission bits.
func mode(tb testing.TB, path string) os.FileMode {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return fi.Mode().Perm()
}

func fileSHA(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}

// saveEvents exports each batch whole, in parts written a page at a time
// (storetest.Save).
func saveEvents(ctx context.Context, st batch.Store, run string, batches []storetest.Batch) error {
	_, err := storetest.Save(ctx, st, run, batches...)
	return err
}
