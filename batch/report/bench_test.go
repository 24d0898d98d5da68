package report

import (
	"bufio"
	"fmt"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Run one at a time, on their own, for figures that mean something:
//
//	go test -run '^$' -bench Workbook1M -benchtime 1x ./batch/report/
//	go test -run '^$' -bench Workbook100k -benchtime 1x ./batch/report/
//
// peak-RSS-MiB is the process's resident high-water mark (VmHWM, reset at
// the start where the kernel allows); peak-heap-MiB samples the live heap
// every 10 ms.

func BenchmarkWorkbook1M(b *testing.B)   { benchWorkbook(b, 1_000_000) }
func BenchmarkWorkbook100k(b *testing.B) { benchWorkbook(b, 100_000) } // memory should not differ

// benchWorkbook writes n request rows, a tenth of them failures with a
// detail, half of them completed.
func benchWorkbook(b *testing.B, n int) {
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	m := startMemWatch(b)
	var size int64
	for b.Loop() {
		p := join(b.TempDir(), WorkbookFile)
		w, err := CreateWorkbook(p)
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			sub := base.Add(time.Duration(i) * time.Minute)
			due := sub.Add(30 * 24 * time.Hour)
			r := RequestRow{RequestID: fmt.Sprintf("DSR-2024-%07d", i), RequestType: "access", Status: "completed",
				SubmittedAt: &sub, DueAt: &due, ProfilesFound: 1, EventsExported: int64(i % 5000), DaysOpen: int32(i % 40)}
			if i%2 == 0 {
				r.CompletedAt, r.Late = &due, i%4 == 0
			}
			if i%10 == 0 {
				r.RequestType, r.Status, r.Detail = "deletion", "failed", "CleverTap returned status fail: code 500, retry later"
			}
			if err := w.AddRequest(r); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.SetSummary([]SummaryItem{{"Requests", n}}); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		st, err := os.Stat(p)
		if err != nil {
			b.Fatal(err)
		}
		size = st.Size()
	}
	m.report(b)
	b.ReportMetric(float64(size)/(1<<20), "file-MiB")
}

// memWatch samples the live heap while a benchmark runs.
type memWatch struct {
	stop     chan struct{}
	wg       sync.WaitGroup
	peakHeap uint64
}

func startMemWatch(tb testing.TB) *memWatch {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // resets VmHWM on Linux; best effort
	m := &memWatch{stop: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	m.wg.Go(func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			m.peakHeap = max(m.peakHeap, sample[0].Value.Uint64())
			select {
			case <-m.stop:
				return
			case <-t.C:
			}
		}
	})
	return m
}

func (m *memWatch) report(b *testing.B) {
	close(m.stop)
	m.wg.Wait()
	b.ReportMetric(float64(m.peakHeap)/(1<<20), "peak-heap-MiB")
	if kib, ok := vmHWM(); ok {
		b.ReportMetric(float64(kib)/1024, "peak-RSS-MiB")
	}
}

// vmHWM is the process's peak resident set size in KiB, from Linux's
// /proc/self/status.
func vmHWM() (int64, bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kib, err == nil
		}
	}
	return 0, false
}
