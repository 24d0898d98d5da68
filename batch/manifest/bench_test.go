package manifest

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/ctdsr/ctdsr/batch/manifest/manifesttest"
)

// BenchmarkValidateCSV1M reads and validates a generated 1,000,000-row CSV
// (1% rejects, 1% repeats) with one Deduper, as `ctdsr validate` does. Run
// it with -benchtime=1x; it reports rows/s, MB allocated and the process's
// peak RSS.
func BenchmarkValidateCSV1M(b *testing.B) {
	const n = 1_000_000
	path := filepath.Join(b.TempDir(), "big.csv")
	if err := manifesttest.WriteBigCSV(path, n); err != nil {
		b.Fatal(err)
	}
	manifesttest.ResetPeakRSS()
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
	if rss := manifesttest.PeakRSS(); rss > 0 {
		b.ReportMetric(float64(rss)/1e6, "MB-peak-RSS")
	}
}
