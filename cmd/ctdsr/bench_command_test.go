package main

import (
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/ctdsr/ctdsr/batch/manifest/manifesttest"
	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// benchRows is the size of the manifests of BenchmarkCommand1M.
const benchRows = 1_000_000

// BenchmarkCommand1M measures what users run: the built binary, as a
// process, on generated 1,000,000-row manifests (alternating access and
// deletion, 1 % rejected, 1 % repeated), with sequential and UUID request
// ids. Each sub-benchmark reports the process's wall time, CPU time and
// peak RSS (getrusage of the child). Run with -benchtime 1x (make bench).
func BenchmarkCommand1M(b *testing.B) {
	bin := buildBench(b)
	dir := b.TempDir()
	manifests := map[string]string{}
	for _, ids := range []string{"sequential", "uuid"} {
		path := filepath.Join(dir, ids+".csv")
		if err := manifesttest.WriteBigCSVWith(path, benchRows, manifesttest.BigCSV{UUIDs: ids == "uuid"}); err != nil {
			b.Fatal(err)
		}
		manifests[ids] = path
	}
	ledger := filepath.Join(dir, "loaded", "ledger.db") // 1M open requests, UUID ids

	b.Run("validate", func(b *testing.B) {
		for b.Loop() {
			measure(b, bin, nil, 3, "validate", "--manifest", manifests["uuid"])
		}
	})
	for _, ids := range []string{"sequential", "uuid"} {
		b.Run("load/ids="+ids, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				state := filepath.Join(b.TempDir(), "ledger.db")
				b.StartTimer()
				measure(b, bin, nil, 3, "load", "--manifest", manifests[ids], "--state", state)
				if ids == "uuid" {
					b.StopTimer()
					os.MkdirAll(filepath.Dir(ledger), 0o700)
					copyLedger(b, state, ledger)
					b.StartTimer()
				}
			}
		})
	}
	b.Run("status", func(b *testing.B) {
		for b.Loop() {
			measure(b, bin, nil, 0, "status", "--state", ledger)
		}
	})
	b.Run("report-all", func(b *testing.B) {
		for b.Loop() {
			measure(b, bin, nil, 0, "report", "--state", ledger, "--out", filepath.Join(b.TempDir(), "out"), "--all")
		}
	})
	b.Run("run-401", func(b *testing.B) {
		// A simulator that answers 401: the run stops at its first call.
		var (
			once  sync.Once
			first time.Time
		)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			once.Do(func() { first = time.Now() })
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"status":"fail","error":"Account ID is not valid","code":401}`)
		}))
		defer srv.Close()
		for b.Loop() {
			b.StopTimer()
			state := filepath.Join(b.TempDir(), "ledger.db")
			copyLedger(b, ledger, state)
			once, first = sync.Once{}, time.Time{}
			b.StartTimer()
			start := measure(b, bin, benchEnv(), 1, "run", "--state", state, "--out", filepath.Join(b.TempDir(), "out"),
				"--base-url", srv.URL, "--report-window", "1s")
			if first.IsZero() {
				b.Fatal("the run made no API call")
			}
			b.ReportMetric(first.Sub(start).Seconds(), "first-call-s")
		}
	})
	b.Run("run-finished", func(b *testing.B) {
		// Every request closed 40 days ago: a run has nothing to do and
		// its reports hold no request (outside the 30-day window).
		sim := startSimServer(b, &ctsim.Dataset{Account: ctsim.Account{ID: ctsim.DemoAccountID, Passcodes: []string{ctsim.DemoPasscode}}},
			ctsim.Options{})
		for b.Loop() {
			b.StopTimer()
			state := filepath.Join(b.TempDir(), "ledger.db")
			copyLedger(b, ledger, state)
			closeAll(b, state, time.Now().Add(-40*24*time.Hour))
			b.StartTimer()
			measure(b, bin, benchEnv(), 0, "run", "--state", state, "--out", filepath.Join(b.TempDir(), "out"), "--base-url", sim.URL)
			if n := sim.HTTP.Load(); n != 0 {
				b.Fatalf("%d API calls on a ledger with nothing open", n)
			}
		}
	})
}

// buildBench builds the binary as `make build` does.
func buildBench(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "ctdsr")
	out, err := exec.Command("go", "build", "-trimpath", "-o", bin, ".").CombinedOutput()
	if err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func benchEnv() []string {
	return append(os.Environ(), "CLEVERTAP_ACCOUNT_ID="+ctsim.DemoAccountID, "CLEVERTAP_PASSCODE="+ctsim.DemoPasscode)
}

// measure runs the binary, checks its exit code and reports wall time,
// CPU time and peak RSS. It returns when the process started.
//
// The peak RSS is the child's own VmHWM, polled from /proc while it runs:
// getrusage's ru_maxrss of a child started the way os/exec starts it
// (CLONE_VM, then exec) counts the parent's resident set at the start.
func measure(b *testing.B, bin string, env []string, wantCode int, args ...string) time.Time {
	b.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	var peak int64
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
		for {
			if hwm := vmHWM(status); hwm > peak {
				peak = hwm
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	err := cmd.Wait()
	wall := time.Since(start)
	close(done)
	if code := cmd.ProcessState.ExitCode(); code != wantCode {
		b.Fatalf("ctdsr %v: exit %d (%v), want %d\n%s", args, code, err, wantCode, out.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(cpu.Seconds(), "cpu-s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
	return start
}

// vmHWM reads the peak resident set (VmHWM) from a /proc status file, in
// bytes; 0 once the process is gone.
func vmHWM(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// copyLedger copies a closed ledger file.
func copyLedger(b *testing.B, from, to string) {
	b.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		b.Fatal(err)
	}
}

// closeAll marks every request of a ledger not found at t, as if a run had
// finished them.
func closeAll(b *testing.B, path string, t time.Time) {
	b.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE requests SET state = 'not_found', completed_at = ?`, t.UnixMicro()); err != nil {
		b.Fatal(err)
	}
}
