package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/batch/report"
	"github.com/ctdsr/ctdsr/clevertap"
	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// sampleMetricsInput is a run as report() would see it: one access done,
// one deletion submitted, one failed, a reject, some 429s.
func sampleMetricsInput(exit int, outcome Outcome, ended time.Time) metricsInput {
	return metricsInput{
		Account:  "W9R-486-4W5Z",
		Version:  "v1.2.3",
		Outcome:  outcome,
		ExitCode: exit,
		Started:  ended.Add(-90 * time.Second),
		Ended:    ended,
		Requests: map[string]map[string]int{
			"access":   {"done": 4, "not_found": 1},
			"deletion": {"submitted": 2, "failed": 1},
		},
		Rejects:       3,
		DueSoon:       5,
		Overdue:       6,
		Late:          7,
		InFlightLimit: 2,
		API: clevertap.Stats{
			Calls:       map[clevertap.Group]int64{clevertap.GroupProfile: 11, clevertap.GroupEvents: 12, clevertap.GroupDelete: 1},
			Attempts:    map[clevertap.Group]int64{clevertap.GroupProfile: 13, clevertap.GroupEvents: 12, clevertap.GroupDelete: 1},
			Retries:     map[clevertap.Group]int64{clevertap.GroupProfile: 2, clevertap.GroupEvents: 0, clevertap.GroupDelete: 0},
			RateLimited: map[clevertap.Group]int64{clevertap.GroupProfile: 1, clevertap.GroupEvents: 0, clevertap.GroupDelete: 0},
			MaxInFlight: map[clevertap.Group]int{clevertap.GroupProfile: 2, clevertap.GroupEvents: 2, clevertap.GroupDelete: 1},
		},
	}
}

// mustReadMetrics parses the metrics file at path with expfmt, as the
// textfile collector does.
func mustReadMetrics(tb testing.TB, path string) map[string]*dto.MetricFamily {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	families, err := parseMetrics(f)
	if err != nil {
		tb.Fatalf("%s does not parse as the Prometheus text format: %v", path, err)
	}
	return families
}

// samples flattens families into "name{l1="v1",l2="v2"}" → value, with
// labels sorted, and checks every family is a gauge with a HELP text.
func samples(tb testing.TB, families map[string]*dto.MetricFamily) map[string]float64 {
	tb.Helper()
	out := map[string]float64{}
	for name, mf := range families {
		if mf.GetType() != dto.MetricType_GAUGE {
			tb.Errorf("%s is a %s, want a gauge", name, mf.GetType())
		}
		if strings.TrimSpace(mf.GetHelp()) == "" {
			tb.Errorf("%s has no HELP text", name)
		}
		for _, m := range mf.GetMetric() {
			if m.TimestampMs != nil {
				tb.Errorf("%s carries a timestamp; the textfile collector refuses those", name)
			}
			var labels []string
			for _, lp := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", lp.GetName(), lp.GetValue()))
			}
			sort.Strings(labels)
			out[name+"{"+strings.Join(labels, ",")+"}"] = m.GetGauge().GetValue()
		}
	}
	return out
}

func TestWriteMetricsParsesBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctdsr.prom")
	ended := time.Date(2026, 11, 30, 1, 32, 0, 500_000_000, time.UTC)
	in := sampleMetricsInput(ExitOK, OutcomeOK, ended)
	if err := writeMetrics(path, in); err != nil {
		t.Fatal(err)
	}
	got := samples(t, mustReadMetrics(t, path))

	const acct = `account="W9R-486-4W5Z"`
	endSec := float64(ended.UnixNano()) / 1e9
	want := map[string]float64{
		`ctdsr_run_requests{` + acct + `,status="done",type="access"}`:                          4,
		`ctdsr_run_requests{` + acct + `,status="not_found",type="access"}`:                     1,
		`ctdsr_run_requests{` + acct + `,status="submitted",type="deletion"}`:                   2,
		`ctdsr_run_requests{` + acct + `,status="failed",type="deletion"}`:                      1,
		`ctdsr_run_requests_overdue{` + acct + `}`:                                              6,
		`ctdsr_run_requests_due_soon{` + acct + `}`:                                             5,
		`ctdsr_run_requests_late{` + acct + `}`:                                                 7,
		`ctdsr_run_manifest_rejects{` + acct + `}`:                                              3,
		`ctdsr_run_api_calls{` + acct + `,group="profile"}`:                                     11,
		`ctdsr_run_api_calls{` + acct + `,group="events"}`:                                      12,
		`ctdsr_run_api_calls{` + acct + `,group="delete"}`:                                      1,
		`ctdsr_run_api_attempts{` + acct + `,group="profile"}`:                                  13,
		`ctdsr_run_api_attempts{` + acct + `,group="events"}`:                                   12,
		`ctdsr_run_api_attempts{` + acct + `,group="delete"}`:                                   1,
		`ctdsr_run_api_retries{` + acct + `,group="profile"}`:                                   2,
		`ctdsr_run_api_retries{` + acct + `,group="events"}`:                                    0,
		`ctdsr_run_api_retries{` + acct + `,group="delete"}`:                                    0,
		`ctdsr_run_api_rate_limited_responses{` + acct + `,group="profile"}`:                    1,
		`ctdsr_run_api_rate_limited_responses{` + acct + `,group="events"}`:                     0,
		`ctdsr_run_api_rate_limited_responses{` + acct + `,group="delete"}`:                     0,
		`ctdsr_run_api_max_in_flight{` + acct + `,group="profile"}`:                             2,
		`ctdsr_run_api_max_in_flight{` + acct + `,group="events"}`:                              2,
		`ctdsr_run_api_max_in_flight{` + acct + `,group="delete"}`:                              1,
		`ctdsr_run_api_in_flight_limit{` + acct + `}`:                                           2,
		`ctdsr_run_duration_seconds{` + acct + `}`:                                              90,
		`ctdsr_run_start_timestamp_seconds{` + acct + `}`:                                       endSec - 90,
		`ctdsr_run_end_timestamp_seconds{` + acct + `}`:                                         endSec,
		`ctdsr_run_exit_code{` + acct + `}`:                                                     0,
		`ctdsr_run_outcome{` + acct + `,outcome="ok"}`:                                          1,
		`ctdsr_last_success_timestamp_seconds{` + acct + `}`:                                    endSec,
		`ctdsr_build_info{` + acct + `,goversion="` + runtime.Version() + `",version="v1.2.3"}`: 1,
	}
	// Every other type and status of the lifecycle table is there, as 0,
	// so a status's series does not vanish between runs.
	for _, info := range batch.Statuses() {
		for _, typ := range info.Types {
			k := `ctdsr_run_requests{` + acct + `,status="` + info.Report + `",type="` + string(typ) + `"}`
			if _, set := want[k]; !set {
				want[k] = 0
			}
		}
	}
	for _, o := range outcomes {
		if o != OutcomeOK {
			want[`ctdsr_run_outcome{`+acct+`,outcome="`+string(o)+`"}`] = 0
		}
	}
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("missing sample %s", k)
		case g != w:
			t.Errorf("%s = %v, want %v", k, g, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected sample %s", k)
		}
	}
}

// The file follows Prometheus naming conventions (promtool's linter), is
// readable by the node_exporter user, and leaves no temporary file behind
// for the collector to trip over.
func TestWriteMetricsFileIsCleanAndReadable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ctdsr.prom")
	if err := writeMetrics(path, sampleMetricsInput(ExitOK, OutcomeOK, time.Now())); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.New(bytes.NewReader(b)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o644 {
		t.Errorf("mode %v, want 0644 (node_exporter runs as another user)", mode)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only ctdsr.prom", names)
	}
}

func lastSuccessOf(tb testing.TB, path string) (time.Time, bool) {
	tb.Helper()
	mf, ok := mustReadMetrics(tb, path)[metricLastSuccess]
	if !ok {
		return time.Time{}, false
	}
	if n := len(mf.GetMetric()); n != 1 {
		tb.Fatalf("%s has %d samples, want 1", metricLastSuccess, n)
	}
	v := mf.GetMetric()[0].GetGauge().GetValue()
	return time.Unix(0, int64(v*1e9)).UTC().Round(time.Millisecond), true
}

// The last success survives runs that do not succeed, and moves on with
// the next one that does.
func TestWriteMetricsKeepsLastSuccess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctdsr.prom")
	t0 := time.Date(2026, 11, 29, 1, 30, 0, 0, time.UTC)
	steps := []struct {
		name    string
		exit    int
		outcome Outcome
		ended   time.Time
		want    time.Time // zero: the metric is left out
	}{
		{"first run fails: never succeeded", ExitFatal, OutcomeFatal, t0, time.Time{}},
		{"a run succeeds", ExitOK, OutcomeOK, t0.Add(time.Hour), t0.Add(time.Hour)},
		{"rows failed: kept", ExitRowsFailed, OutcomeRowsFailed, t0.Add(2 * time.Hour), t0.Add(time.Hour)},
		{"interrupted: kept", ExitInterrupted, OutcomeInterrupted, t0.Add(3 * time.Hour), t0.Add(time.Hour)},
		{"fatal: kept", ExitFatal, OutcomeFatal, t0.Add(4 * time.Hour), t0.Add(time.Hour)},
		{"succeeds again", ExitOK, OutcomeOK, t0.Add(5 * time.Hour), t0.Add(5 * time.Hour)},
	}
	for _, s := range steps {
		if err := writeMetrics(path, sampleMetricsInput(s.exit, s.outcome, s.ended)); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got, ok := lastSuccessOf(t, path)
		switch {
		case s.want.IsZero() && ok:
			t.Errorf("%s: last success %v, want none", s.name, got)
		case !s.want.IsZero() && !got.Equal(s.want):
			t.Errorf("%s: last success %v (present %v), want %v", s.name, got, ok, s.want)
		}
		if code := samples(t, mustReadMetrics(t, path))[`ctdsr_run_exit_code{account="W9R-486-4W5Z"}`]; code != float64(s.exit) {
			t.Errorf("%s: exit code %v, want %d", s.name, code, s.exit)
		}
	}
}

// Another account's last success is not taken over.
func TestWriteMetricsLastSuccessIsPerAccount(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctdsr.prom")
	other := sampleMetricsInput(ExitOK, OutcomeOK, time.Date(2026, 11, 29, 1, 0, 0, 0, time.UTC))
	other.Account = "OTHER-ACCOUNT"
	if err := writeMetrics(path, other); err != nil {
		t.Fatal(err)
	}
	if err := writeMetrics(path, sampleMetricsInput(ExitFatal, OutcomeFatal, time.Date(2026, 11, 29, 2, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
	if got, ok := lastSuccessOf(t, path); ok {
		t.Errorf("last success %v taken from another account's file, want none", got)
	}
}

// A previous file that is not ours (or is damaged) does not stop the new
// one from being written; the error says the last success was lost.
func TestWriteMetricsUnparsablePreviousFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctdsr.prom")
	if err := os.WriteFile(path, []byte("this is { not the text format\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := writeMetrics(path, sampleMetricsInput(ExitRowsFailed, OutcomeRowsFailed, time.Now()))
	if err == nil || !strings.Contains(err.Error(), metricLastSuccess) {
		t.Errorf("error %v, want one naming %s", err, metricLastSuccess)
	}
	if _, ok := lastSuccessOf(t, path); ok {
		t.Error("last success present, want it left out")
	}
	if code := samples(t, mustReadMetrics(t, path))[`ctdsr_run_exit_code{account="W9R-486-4W5Z"}`]; code != ExitRowsFailed {
		t.Errorf("exit code %v, want %d: the new file was not written", code, ExitRowsFailed)
	}
}

// A file that cannot be replaced stays as it was, and no temporary file
// is left behind.
func TestWriteMetricsFailureLeavesOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ctdsr.prom")
	// A non-empty directory where the file should be: the rename fails.
	if err := os.MkdirAll(filepath.Join(path, "keep"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := writeMetrics(path, sampleMetricsInput(ExitOK, OutcomeOK, time.Now()))
	if err == nil {
		t.Fatal("writeMetrics over a directory succeeded")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
	if _, serr := os.Stat(filepath.Join(path, "keep")); serr != nil {
		t.Errorf("the old entry is gone: %v", serr)
	}
	entries, rerr := os.ReadDir(dir)
	if rerr != nil {
		t.Fatal(rerr)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want 1 (a temporary file was left)", len(entries))
	}

	err = writeMetrics(filepath.Join(dir, "missing", "ctdsr.prom"), sampleMetricsInput(ExitOK, OutcomeOK, time.Now()))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("writing into a missing directory: %v, want an error wrapping ErrNotExist", err)
	}
}

// Without an account, no account label is written.
func TestWriteMetricsWithoutAccount(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctdsr.prom")
	in := sampleMetricsInput(ExitOK, OutcomeOK, time.Now())
	in.Account = ""
	if err := writeMetrics(path, in); err != nil {
		t.Fatal(err)
	}
	families := mustReadMetrics(t, path)
	if len(families) == 0 {
		t.Fatal("no metrics written")
	}
	for name, mf := range families {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == metricAccountLabel {
					t.Errorf("%s carries an account label without an account", name)
				}
			}
		}
	}
}

// ctdsr_run_outcome lists every outcome outcome.go declares.
func TestMetricsOutcomesAreComplete(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "outcome.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []Outcome
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Outcome" {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok {
					t.Fatalf("an Outcome constant is not a string literal")
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				declared = append(declared, Outcome(s))
			}
		}
	}
	if len(declared) < 2 {
		t.Fatalf("found %d Outcome constants in outcome.go; the test is not reading it", len(declared))
	}
	for _, o := range declared {
		if !slices.Contains(outcomes, o) {
			t.Errorf("outcome %q is missing from metrics.go's outcomes", o)
		}
	}
	for _, o := range outcomes {
		if !slices.Contains(declared, o) {
			t.Errorf("metrics.go's outcomes lists %q, which outcome.go does not declare", o)
		}
	}
}

// The job's metrics step: the file carries the exit code main will use,
// the run's error passes through unchanged, and a file that cannot be
// written turns a good run into a failed one.
func TestJobWriteMetricsFile(t *testing.T) {
	client, err := clevertap.NewClient(clevertap.WithCredentials("ACC-1", "secret-passcode"),
		clevertap.WithBaseURL("http://127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	newJob := func(outcome Outcome) *job {
		env := &Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string {
			return map[string]string{"CLEVERTAP_ACCOUNT_ID": " ACC-1 ", "CLEVERTAP_PASSCODE": "secret-passcode"}[k]
		}}
		j := &job{env: env, client: client, log: slog.New(slog.NewTextHandler(io.Discard, nil)), outcome: outcome,
			cfg: jobConfig{Now: func() time.Time { return now }}}
		j.sum = runSummary{StartedAt: now.Add(-time.Minute), Reports: report.Totals{
			ByStatus: map[string]map[string]int{"access": {"done": 2}}, Rejects: 1, Late: 4}}
		return j
	}
	rowsFailed := fmt.Errorf("run r1: %w (see out/requests.parquet)", ErrRowsFailed)
	cases := []struct {
		name    string
		outcome Outcome
		runErr  error
		exit    int
	}{
		{"ok", OutcomeOK, nil, ExitOK},
		{"rows failed", OutcomeRowsFailed, rowsFailed, ExitRowsFailed},
		{"unreadable manifest", OutcomeUnreadableInput, &UsageError{Err: errors.New("m.csv: cannot read")}, ExitUsage},
		{"fatal", OutcomeFatal, errors.New("ledger locked"), ExitFatal},
		{"interrupted", OutcomeInterrupted, fmt.Errorf("run r1: %w", ErrInterrupted), ExitInterrupted},
		{"out of time", OutcomeOutOfTime, fmt.Errorf("run r1: %w", ErrWorkRemains), ExitRowsFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ctdsr.prom")
			err := newJob(c.outcome).writeMetricsFile(t.Context(), path, c.runErr)
			if err != c.runErr {
				t.Errorf("error %v, want the run's own %v", err, c.runErr)
			}
			got := samples(t, mustReadMetrics(t, path))
			checks := map[string]float64{
				`ctdsr_run_exit_code{account="ACC-1"}`:                                   float64(c.exit),
				`ctdsr_run_outcome{account="ACC-1",outcome="` + string(c.outcome) + `"}`: 1,
				`ctdsr_run_requests{account="ACC-1",status="done",type="access"}`:        2,
				`ctdsr_run_manifest_rejects{account="ACC-1"}`:                            1,
				`ctdsr_run_duration_seconds{account="ACC-1"}`:                            60,
				`ctdsr_run_api_in_flight_limit{account="ACC-1"}`:                         2,
				`ctdsr_run_api_calls{account="ACC-1",group="profile"}`:                   0,
			}
			for k, w := range checks {
				if g, ok := got[k]; !ok || g != w {
					t.Errorf("%s = %v (present %v), want %v", k, g, ok, w)
				}
			}
		})
	}

	t.Run("unwritable file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "missing", "ctdsr.prom")
		err := newJob(OutcomeOK).writeMetricsFile(t.Context(), path, nil)
		if err == nil {
			t.Fatal("a good run whose metrics file cannot be written returned no error")
		}
		if code := exitCode(context.Background(), &Env{Stderr: io.Discard}, err); code != ExitFatal {
			t.Errorf("exit code %d, want %d", code, ExitFatal)
		}
		err = newJob(OutcomeRowsFailed).writeMetricsFile(t.Context(), path, rowsFailed)
		if code := exitCode(context.Background(), &Env{Stderr: io.Discard}, err); code != ExitRowsFailed {
			t.Errorf("rows-failed run with an unwritable metrics file: exit code %d, want %d", code, ExitRowsFailed)
		}
	})
}

// No personal data: every label value in the file comes from a closed set
// or is the account ID, the version or the Go version.
func TestWriteMetricsLabelValuesAreClosed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctdsr.prom")
	if err := writeMetrics(path, sampleMetricsInput(ExitOK, OutcomeOK, time.Now())); err != nil {
		t.Fatal(err)
	}
	allowed := []string{"W9R-486-4W5Z", "v1.2.3", runtime.Version(), "access", "deletion",
		"profile", "events", "delete"}
	for _, o := range outcomes {
		allowed = append(allowed, string(o))
	}
	allowed = append(allowed, statusReportNames()...)
	for name, mf := range mustReadMetrics(t, path) {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if !slices.Contains(allowed, lp.GetValue()) {
					t.Errorf("%s: label %s=%q is not from a closed set", name, lp.GetName(), lp.GetValue())
				}
			}
		}
	}
}

func statusReportNames() []string {
	var names []string
	for _, info := range batch.Statuses() {
		names = append(names, info.Report)
	}
	return names
}

// `ctdsr run --metrics-file` writes the file a scheduler's node_exporter
// reads, after every run: the figures of the run, its exit code, and the
// last success carried over a failed run.
func TestRunWritesMetricsFile(t *testing.T) {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 61, Profiles: 4})
	sim := startSimServer(t, ds, ctsim.Options{})
	ps := subjects(ds, 0, 1)
	dir := t.TempDir()
	m := writeManifestCSV(t, dir, []manifestRow{{"A-1", "access", ps[0].Email, "", ""}})
	prom := filepath.Join(dir, "metrics", "ctdsr.prom")
	if err := os.MkdirAll(filepath.Dir(prom), 0o755); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "l.db")
	if res := ctdsr(t, runArgs(sim, state, filepath.Join(dir, "out"), "--manifest", m, "--metrics-file", prom)...); res.code != ExitOK {
		t.Fatalf("run: %s", res)
	}
	got := samples(t, mustReadMetrics(t, prom))
	account := fmt.Sprintf("account=%q", ctsim.DemoAccountID)
	for name, want := range map[string]float64{
		"ctdsr_run_exit_code{" + account + "}":                            0,
		"ctdsr_run_requests{" + account + `,status="done",type="access"}`: 1,
		"ctdsr_run_api_calls{" + account + `,group="profile"}`:            1,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", name, v, ok, want)
		}
	}
	last, ok := got["ctdsr_last_success_timestamp_seconds{"+account+"}"]
	if !ok || last <= 0 {
		t.Fatalf("no last success after a clean run: %v", got)
	}
	// A run that fails keeps the last success and says how it ended.
	m2 := writeManifestCSV(t, mkdir(t, filepath.Join(dir, "m2")), []manifestRow{{"A-2", "access", "x@example.com", "", ""}})
	bad := ctdsrEnv(t, t.Context(), credentials("wrong"), runArgs(sim, state, filepath.Join(dir, "out2"), "--manifest", m2, "--metrics-file", prom)...)
	if bad.code != ExitFatal {
		t.Fatalf("run with a wrong passcode: %s", bad)
	}
	got = samples(t, mustReadMetrics(t, prom))
	if got["ctdsr_run_exit_code{"+account+"}"] != 1 || got["ctdsr_last_success_timestamp_seconds{"+account+"}"] != last {
		t.Errorf("after a failed run: exit code %v, last success %v; want 1 and %v", got["ctdsr_run_exit_code{"+account+"}"],
			got["ctdsr_last_success_timestamp_seconds{"+account+"}"], last)
	}
}
