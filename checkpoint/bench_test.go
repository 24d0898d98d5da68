package checkpoint_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/checkpoint"
)

// BenchmarkImport1M loads 1,000,000 generated requests into a new ledger in
// ImportBatch-row transactions: the ledger's share of loading a 1M-row
// manifest. Run it with -benchtime=1x; it reports peak RSS as peak-RSS-MB.
func BenchmarkImport1M(b *testing.B) {
	n := benchRows()
		opts := checkpoint.Options{}
		if v, err := strconv.Atoi(os.Getenv("CTDSR_BATCH")); err == nil {
			opts.ImportBatch = v
		}
	for b.Loop() {
		b.StopTimer()
		resetPeakRSS()
		st := mustOpen(b, b.TempDir()+"/ledger.db", opts)
		runID := mustBeginRun(b, st)
		b.StartTimer()

		imp, err := st.NewImporter(b.Context(), runID, manifestInfo("bench.csv", "1m"))
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			if err := imp.Add(b.Context(), benchRequest(i)); err != nil {
				b.Fatal(err)
			}
		}
		res, err := imp.Finish(b.Context(), n)
		if err != nil {
			b.Fatal(err)
		}

		b.StopTimer()
		if res.Added != n {
			b.Fatalf("added %d, want %d", res.Added, n)
		}
		b.ReportMetric(peakRSSMB(b), "peak-RSS-MB")
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// benchRequest is the i-th generated request; IDs are not in insertion
// order, as in a real export.
func benchRequest(i int) batch.Request {
	id := "REQ-" + strconv.Itoa((i*7919)%1_000_003)
	if os.Getenv("CTDSR_SEQ") != "" {
		id = fmt.Sprintf("REQ-%08d", i)
	}
	t := batch.Access
	if i%3 == 0 {
		t = batch.Deletion
	}
	sub := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
	return batch.Request{
		ID: id, Type: t,
		Email:       "user" + strconv.Itoa(i) + "@example.com",
		UserID:      "u-" + strconv.Itoa(i),
		SubmittedAt: sub, DueAt: sub.Add(batch.DefaultDueAfter),
		Source: batch.SourceRef{File: "bench.csv", Row: i + 2},
	}
}

// resetPeakRSS asks Linux to restart the VmHWM count; elsewhere it does
// nothing and peakRSSMB reports the process's peak so far.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSSMB reads VmHWM (peak resident set size) in MiB.
func peakRSSMB(tb testing.TB) float64 {
	tb.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Skipf("no /proc/self/status: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if f := bytes.Fields(sc.Bytes()); len(f) >= 2 && string(f[0]) == "VmHWM:" {
			kb, err := strconv.ParseFloat(string(f[1]), 64)
			if err != nil {
				tb.Fatalf("parse VmHWM %q: %v", f[1], err)
			}
			return kb / 1024
		}
	}
	tb.Fatal("no VmHWM in /proc/self/status")
	return 0
}

// benchRows is 1,000,000 unless CTDSR_BENCH_ROWS says otherwise (for
// profiling at a smaller size).
func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("CTDSR_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}
