package checkpoint_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/batch/manifest"
	"github.com/ctdsr/ctdsr/batch/manifest/manifesttest"
	"github.com/ctdsr/ctdsr/checkpoint"
)

const benchRows = 1_000_000

// BenchmarkImport1M loads 1,000,000 generated requests into a new ledger:
// the ledger's share of loading a 1M-row manifest. Sequential ids are
// what ticketing systems export; random ids (UUID-like) insert all over
// the request-ID index and cost more. Run it with -benchtime=1x; it reports
// rows/s, CPU seconds and the process's peak RSS.
func BenchmarkImport1M(b *testing.B) {
	for _, ids := range []struct {
		name string
		id   func(i int) string
	}{
		{"ids=sequential", func(i int) string { return fmt.Sprintf("REQ-%08d", i) }},
		{"ids=random", func(i int) string { return fmt.Sprintf("REQ-%08d", (i*7919)%1_000_003) }},
	} {
		b.Run(ids.name, func(b *testing.B) {
			for b.Loop() {
				st, runID, cpu := benchLedger(b)

				imp, err := st.NewImporter(b.Context(), runID, manifestInfo("bench.csv", "1m"))
				if err != nil {
					b.Fatal(err)
				}
				for i := range benchRows {
					if err := imp.Add(b.Context(), benchRequest(ids.id(i), i)); err != nil {
						b.Fatal(err)
					}
				}
				res, err := imp.Finish(b.Context(), benchRows)
				if err != nil {
					b.Fatal(err)
				}

				b.StopTimer()
				if res.Added != benchRows {
					b.Fatalf("added %d, want %d", res.Added, benchRows)
				}
				b.ReportMetric(cpuSeconds()-cpu, "cpu-s")
				b.ReportMetric(float64(manifesttest.PeakRSS())/(1<<20), "peak-RSS-MB")
				st.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func benchRequest(id string, i int) batch.Request {
	t := batch.Access
	if i%3 == 0 {
		t = batch.Deletion
	}
	sub := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
	return batch.Request{
		ID: id, Type: t,
		Email:       "user" + strconv.Itoa(i) + "@example.com",
		UserID:      "cust-" + strconv.Itoa(i),
		SubmittedAt: sub, DueAt: sub.Add(batch.DefaultDueAfter),
		Source: batch.SourceRef{File: "bench.csv", Row: i + 2},
	}
}

// BenchmarkLoadCSV1M is what `ctdsr run` does with a new 1,000,000-row CSV
// manifest (1% rejected rows, 1% repeated rows): hash the file, read and
// validate it, load every row into a new ledger. Run it with
// -benchtime=1x; the goal is at most 15 s and 200 MB peak RSS on 2 cores.
func BenchmarkLoadCSV1M(b *testing.B) {
	path := filepath.Join(b.TempDir(), "requests.csv")
	if err := manifesttest.WriteBigCSV(path, benchRows); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		st, runID, cpu := benchLedger(b)

		sum := mustFileSHA256(b, path)
		if loaded, err := st.ManifestLoaded(b.Context(), sum); err != nil || loaded {
			b.Fatalf("ManifestLoaded = %v, %v", loaded, err)
		}
		imp, err := st.NewImporter(b.Context(), runID, checkpoint.ManifestInfo{SHA256: sum, Path: path, Format: "csv"})
		if err != nil {
			b.Fatal(err)
		}
		info, err := manifest.Read(b.Context(), path, manifest.Options{Dedup: manifest.NewDeduper()}, func(r manifest.Row) error {
			if r.Reject != nil {
				return imp.Reject(b.Context(), *r.Reject)
			}
			return imp.Add(b.Context(), *r.Request)
		})
		if err != nil {
			b.Fatal(err)
		}
		res, err := imp.Finish(b.Context(), info.Rows)
		if err != nil {
			b.Fatal(err)
		}

		b.StopTimer()
		if info.Rows != benchRows || res.Added != benchRows-2*benchRows/100 ||
			res.Merged != benchRows/100 || res.Rejected != benchRows/100 {
			b.Fatalf("read %d rows, import %+v; want %d rows, %d added, %d merged, %d rejected",
				info.Rows, res, benchRows, benchRows-2*benchRows/100, benchRows/100, benchRows/100)
		}
		b.ReportMetric(cpuSeconds()-cpu, "cpu-s")
		b.ReportMetric(float64(manifesttest.PeakRSS())/(1<<20), "peak-RSS-MB")
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// benchLedger opens a fresh ledger with a run begun, outside the timer,
// and starts measuring peak RSS and CPU from here.
func benchLedger(b *testing.B) (st *checkpoint.Store, runID string, cpu float64) {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	st = mustOpen(b, filepath.Join(b.TempDir(), "ledger.db"), checkpoint.Options{})
	runID = mustBeginRun(b, st)
	manifesttest.ResetPeakRSS()
	return st, runID, cpuSeconds()
}

func mustFileSHA256(tb testing.TB, path string) string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
