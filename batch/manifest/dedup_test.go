package manifest

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
)

func TestDeduper(t *testing.T) {
	req := func(id, email, file string, row int) *batch.Request {
		return &batch.Request{ID: id, Type: batch.Access, Email: email, Source: batch.SourceRef{File: file, Row: row}}
	}
	d := NewDeduper()
	steps := []struct {
		req     *batch.Request
		verdict Verdict
		first   batch.SourceRef
	}{
		{req("A", "a@x.io", "one.csv", 2), Unique, batch.SourceRef{}},
		{req("B", "b@x.io", "one.csv", 3), Unique, batch.SourceRef{}},
		{req("A", "a@x.io", "two.csv", 7), Repeat, batch.SourceRef{File: "one.csv", Row: 2}},
		{req("A", "other@x.io", "two.csv", 8), Conflict, batch.SourceRef{File: "one.csv", Row: 2}},
		{req("B", "b@x.io", "one.csv", 9), Repeat, batch.SourceRef{File: "one.csv", Row: 3}},
		{req("a", "a@x.io", "two.csv", 10), Unique, batch.SourceRef{}}, // ids are case-sensitive
	}
	for i, s := range steps {
		first, v := d.Add(s.req)
		if v != s.verdict || first != s.first {
			t.Errorf("step %d: Add(%s from %s:%d) = %v, %v; want %v, %v",
				i, s.req.ID, s.req.Source.File, s.req.Source.Row, first, v, s.first, s.verdict)
		}
	}
	if d.Len() != 3 {
		t.Errorf("Len = %d, want 3", d.Len())
	}
}

// TestDeduperSpansFiles reads two manifests with one Deduper: the second
// file's repeat is merged and its conflict names the first file's row.
func TestDeduperSpansFiles(t *testing.T) {
	dir := t.TempDir()
	one := writeFile(t, filepath.Join(dir, "one.csv"), []byte(
		"id,type,email,date\nA,access,a@x.io,2024-01-05\nB,deletion,b@x.io,\n"))
	two := writeFile(t, filepath.Join(dir, "two.csv"), []byte(
		"id,type,email,date\nB,Delete,B@X.IO,\nA,access,a@x.io,2024-01-06\nC,access,c@x.io,\n"))
	d := NewDeduper()
	mustRead(t, one, Options{Dedup: d})
	info, rows := mustRead(t, two, Options{Dedup: d})
	want := map[int]string{
		2: "merge B into row 3",
		3: fmt.Sprintf("reject A [request_id]: request id already used at %s:2 with different content", one),
		4: "C access email=c@x.io",
	}
	if diff := diffOutcomes(outcomes(rows), want); diff != "" {
		t.Errorf("outcomes differ:\n%s", diff)
	}
	if rows[0].Duplicate.File != one {
		t.Errorf("merged row points at %s, want %s", rows[0].Duplicate.File, one)
	}
	if info.Merged != 1 || info.Rejected != 1 || info.Accepted != 1 {
		t.Errorf("Accepted, Merged, Rejected = %d, %d, %d; want 1, 1, 1", info.Accepted, info.Merged, info.Rejected)
	}
}

// TestDeduperMemory bounds the per-id cost that lets a million ids fit the
// validate+ledger budget. It counts allocated bytes, not time.
func TestDeduperMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates ~10 MB")
	}
	const n = 100_000
	reqs := make([]batch.Request, n)
	for i := range reqs {
		reqs[i] = batch.Request{ID: fmt.Sprintf("REQ-%08d", i), Type: batch.Deletion, Email: "x@example.com",
			DueAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Source: batch.SourceRef{File: "m.csv", Row: i + 2}}
	}
	d := NewDeduper()
	// Measure what the Deduper retains: its map, not the transient hashes.
	before := heapInUse()
	for i := range reqs {
		d.Add(&reqs[i])
	}
	perID := float64(heapInUse()-before) / n
	runtime.KeepAlive(reqs)
	runtime.KeepAlive(d)
	if perID > 100 {
		t.Errorf("Deduper retains %.0f bytes per id; want at most 100", perID)
	}
	t.Logf("%.0f bytes per id", perID)
}
