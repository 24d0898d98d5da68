//go:build unix

package checkpoint

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/batch/report"
	"github.com/ctdsr/ctdsr/clevertap"
	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// exportEnv, set, makes the test binary an export child (see TestMain and
// runExport): "URL LEDGER", it runs the access requests of the ledger
// against the simulator at URL and prints an exportResult.
const exportEnv = "CTDSR_CHECKPOINT_EXPORT"

// BenchmarkExportOneSubject exports one event name of one subject holding
// 10k, 50k, 200k and 1M events, through the real client over HTTP from the
// simulator (served by a child process, see startSim) into a real ledger.
// The run itself is a child process too (runExport), so that its peak RSS
// is the kernel's count for that process alone (getrusage of the child,
// ru_maxrss), whatever the benchmark and the simulator hold. It reports
// the run's wall and CPU time, events/s and peak RSS: writing the export
// to the ledger page by page keeps the peak the same whatever the count.
//
// filtered is the profile filter's export of the subject's records;
// shared is the shared unfiltered scan a run falls back to when CleverTap
// refuses the filter (a small subject, worked first, finds that out).
//
// It runs only with -bench:
//
//	go test -run '^$' -bench BenchmarkExportOneSubject -benchtime 1x ./checkpoint/
func BenchmarkExportOneSubject(b *testing.B) {
	for _, path := range []struct{ name, filter string }{{"filtered", "apply"}, {"shared", "reject"}} {
		for _, n := range []int{10_000, 50_000, 200_000, 1_000_000} {
			b.Run(fmt.Sprintf("path=%s/events=%d", path.name, n), func(b *testing.B) {
				url := startSim(b, n, path.filter)
				for b.Loop() {
					benchExport(b, url, n, path.name == "shared")
				}
			})
		}
	}
}

// exportResult is what an export child reports.
type exportResult struct {
	Wall   time.Duration // of the run alone
	Shared bool          // the run made shared event scans
	Err    string
}

// benchExport makes a fresh ledger holding the access request of the bulk
// subject (after the small subject's, for the shared path), runs it in an
// export child and checks that every event was exported once.
func benchExport(b *testing.B, url string, n int, shared bool) {
	b.StopTimer()
	path := filepath.Join(b.TempDir(), "ledger.db")
	st, err := Open(b.Context(), path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	runID, err := st.BeginRun(b.Context(), RunInfo{Args: []string{"bench"}, ToolVersion: "test"})
	if err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256([]byte(fmt.Sprint("bulk ", n, shared)))
	imp, err := st.NewImporter(b.Context(), runID, ManifestInfo{SHA256: hex.EncodeToString(sum[:]), Path: "bulk.csv", Format: "csv"})
	if err != nil {
		b.Fatal(err)
	}
	due := ctsim.DefaultNow.Add(24 * time.Hour)
	reqs := []batch.Request{{ID: "bulk", Type: batch.Access, Email: bulkEmail, DueAt: due.Add(time.Hour)}}
	if shared {
		reqs = append(reqs, batch.Request{ID: "small", Type: batch.Access, Email: smallEmail, DueAt: due})
	}
	for i, r := range reqs {
		r.Source = batch.SourceRef{File: "bulk.csv", Row: i + 2}
		if err := imp.Add(b.Context(), r); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := imp.Finish(b.Context(), len(reqs)); err != nil {
		b.Fatal(err)
	}
	if err := st.EndRun(b.Context(), runID, "ok"); err != nil {
		b.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), exportEnv+"="+url+" "+path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	b.StartTimer()
	err = cmd.Run()
	b.StopTimer()
	if err != nil {
		b.Fatalf("export child: %v; stderr:\n%s", err, stderr.String())
	}
	var res exportResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		b.Fatalf("export child said %q: %v", stdout.String(), err)
	}
	if res.Err != "" {
		b.Fatalf("export child: %s", res.Err)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		b.Fatal("no resource usage of the export child")
	}
	peak := maxRSSBytes(ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())

	var row report.RequestRow
	err = st.ReportRequests(b.Context(), report.Selection{RequestIDs: []string{"bulk"}, Now: ctsim.DefaultNow},
		func(r report.RequestRow) error { row = r; return nil })
	if err != nil {
		b.Fatal(err)
	}
	if row.Status != batch.StatusDone.Report() || row.EventsExported != int64(n) {
		b.Fatalf("bulk request %s with %d events exported, want done with %d: %s", row.Status, row.EventsExported, n, row.Detail)
	}
	var held int
	if err := st.rdb.QueryRowContext(b.Context(), "SELECT count(*) FROM access_events WHERE request_id = 'bulk'").Scan(&held); err != nil {
		b.Fatal(err)
	}
	if held != n {
		b.Fatalf("the ledger holds %d events of the bulk request, want %d (each once)", held, n)
	}
	if res.Shared != shared {
		b.Fatalf("shared scans ran: %v, want %v", res.Shared, shared)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
	b.ReportMetric(res.Wall.Seconds(), "wall-s")
	b.ReportMetric(cpu.Seconds(), "cpu-s")
	b.ReportMetric(float64(n)/res.Wall.Seconds(), "events/s")
	b.StartTimer()
}

// maxRSSBytes is the peak resident set of a child in bytes: Linux and the
// BSDs count ru_maxrss in kilobytes, macOS in bytes.
func maxRSSBytes(ru *syscall.Rusage) int64 {
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss)
	}
	return int64(ru.Maxrss) * 1024
}

// runExport is the export child: spec is "URL LEDGER". It runs the open
// requests of the ledger against the simulator at URL, as ctdsr run would,
// and prints an exportResult on its standard output.
func runExport(spec string) error {
	url, path, ok := strings.Cut(spec, " ")
	if !ok {
		return fmt.Errorf("bad %s %q", exportEnv, spec)
	}
	res, err := export(context.Background(), url, path)
	if err != nil {
		res.Err = err.Error()
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

func export(ctx context.Context, url, path string) (exportResult, error) {
	var res exportResult
	st, err := Open(ctx, path, Options{})
	if err != nil {
		return res, err
	}
	defer st.Close()
	runID, err := st.BeginRun(ctx, RunInfo{Args: []string{"bench export"}, ToolVersion: "test"})
	if err != nil {
		return res, err
	}
	api, err := clevertap.NewClient(clevertap.WithBaseURL(url), clevertap.WithCredentials(ctsim.DemoAccountID, ctsim.DemoPasscode))
	if err != nil {
		return res, err
	}
	cfg := batch.DefaultConfig()
	cfg.Workers = 1 // the small subject first: it finds the filter refused
	var logs bytes.Buffer
	r, err := batch.NewRunner(cfg, batch.Deps{RunID: runID, Store: st, API: api,
		Now: func() time.Time { return ctsim.DefaultNow }, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		return res, err
	}
	start := time.Now()
	if err := r.Run(ctx); err != nil {
		return res, fmt.Errorf("run: %w; log:\n%s", err, logs.String())
	}
	res.Wall = time.Since(start)
	res.Shared = strings.Contains(logs.String(), "shared event scans")
	return res, st.EndRun(ctx, runID, "ok")
}
