package manifest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

// BenchmarkValidateCSV1M reads and validates a generated 1,000,000-row CSV
// (1% rejects, 1% repeats) with one Deduper, as `ctdsr validate` does. Run
// it with -benchtime=1x; it reports rows/s, MB allocated and the process's
// peak RSS.
func BenchmarkValidateCSV1M(b *testing.B) {
	const n = 1_000_000
	path := filepath.Join(b.TempDir(), "big.csv")
	writeBigCSV(b, path, n)
	resetPeakRSS()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		rows := 0
		info, err := Read(b.Context(), path, Options{Dedup: NewDeduper()}, func(Row) error { rows++; return nil })
		if err != nil || rows != n || info.Rejected != n/100 || info.Merged != n/100 {
			b.Fatalf("Read = %v, %d rows (%d rejected, %d merged); want %d rows, %d of each",
				err, rows, info.Rejected, info.Merged, n, n/100)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/1e6/float64(b.N), "MB-alloc/op")
	if rss := peakRSS(); rss > 0 {
		b.ReportMetric(float64(rss)/1e6, "MB-peak-RSS")
	}
}

// writeBigCSV writes n data rows: every 100th is rejected (bad email) and
// every 100th, offset by 50, repeats the row before it.
func writeBigCSV(tb testing.TB, path string, n int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("Ticket ID,Request,E-mail,Customer ID,Received At,Notes\r\n")
	types := [2]string{"access", "Right to be forgotten"}
	for i := range n {
		id := i
		if i%100 == 50 {
			id = i - 1
		}
		email := "user" + strconv.Itoa(id) + "@example.com"
		if i%100 == 99 {
			email = "user" + strconv.Itoa(id)
		}
		fmt.Fprintf(w, "REQ-%08d,%s,%s,cust-%d,2024-01-05T09:00:00Z,\"note, with a comma\"\r\n", id, types[id%2], email, id)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// resetPeakRSS resets VmHWM so it measures the benchmark, not the setup.
// Linux only; elsewhere peakRSS reports 0.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS returns the process's peak resident set in bytes (VmHWM).
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			kb, _ := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(v), []byte(" kB"))), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
