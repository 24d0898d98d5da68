package main

// --metrics-file: one run's figures in the Prometheus text exposition
// format, for node_exporter's textfile collector (or anything else that
// reads that format). The file describes the last run and is replaced as a
// whole at the end of every run, so every per-run figure is a gauge: a
// counter would make rate() and increase() read a smaller run after a
// larger one as a counter reset. Only ctdsr_last_success_timestamp_seconds
// spans runs: a run that did not succeed carries the previous file's value
// over.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/checkpoint"
	"github.com/ctdsr/ctdsr/clevertap"
)

// metricsFileMode is the mode of the metrics file. node_exporter runs as
// its own user (often node_exporter or nobody), not as the user ctdsr runs
// as, so the file must be readable by others; 0644 is what the textfile
// collector's own examples produce (sponge, prometheus.WriteToTextfile).
// That is safe because the file holds counts, durations, times, the tool
// version, the outcome and the CleverTap account ID only: no request id,
// email, identity or objectId, and no passcode.
const metricsFileMode fs.FileMode = 0o644

// Metric names. Every per-run figure is a gauge (see the file comment).
const (
	metricRequests         = "ctdsr_run_requests"
	metricRequestsOverdue  = "ctdsr_run_requests_overdue"
	metricRequestsDueSoon  = "ctdsr_run_requests_due_soon"
	metricRequestsLate     = "ctdsr_run_requests_late"
	metricRejects          = "ctdsr_run_manifest_rejects"
	metricAPICalls         = "ctdsr_run_api_calls"
	metricAPIAttempts      = "ctdsr_run_api_attempts"
	metricAPIRetries       = "ctdsr_run_api_retries"
	metricAPIRateLimited   = "ctdsr_run_api_rate_limited_responses"
	metricAPIMaxInFlight   = "ctdsr_run_api_max_in_flight"
	metricAPIInFlightLimit = "ctdsr_run_api_in_flight_limit"
	metricRunDuration      = "ctdsr_run_duration_seconds"
	metricRunStart         = "ctdsr_run_start_timestamp_seconds"
	metricRunEnd           = "ctdsr_run_end_timestamp_seconds"
	metricRunExitCode      = "ctdsr_run_exit_code"
	metricRunOutcome       = "ctdsr_run_outcome"
	metricLastSuccess      = "ctdsr_last_success_timestamp_seconds"
	metricBuildInfo        = "ctdsr_build_info"
	metricAccountLabel     = "account"
)

const (
	metricsTempPrefix        = "."     // the temporary file is hidden ...
	metricsTempSuffix        = ".tmp"  // ... and does not end in .prom, so the collector skips it
	metricsPreviousReadLimit = 1 << 20 // the file is a few KiB; never read more than this back
)

// outcomes lists every Outcome, so ctdsr_run_outcome has one series per
// outcome (1 for this run's, 0 for the others) and alerts need no absent().
// (TestMetricsOutcomesAreComplete keeps it in step with outcome.go.)
var outcomes = []Outcome{OutcomeOK, OutcomeRowsFailed, OutcomeInterrupted, OutcomeOutOfTime, OutcomeUnreadableInput, OutcomeFatal}

// metricsInput is what --metrics-file reports about one run of `ctdsr run`.
// It holds counts, times and label values that are not personal data.
type metricsInput struct {
	// Account is the CleverTap account ID. When set, every metric carries
	// it as the label account, so the files of several accounts can sit in
	// one textfile directory without clashing series.
	Account  string
	Version  string  // the tool version (ctdsr_build_info)
	Outcome  Outcome // how the run ended
	ExitCode int     // the process exit code, as exitCode maps the run's error
	Started  time.Time
	Ended    time.Time

	// Requests counts the requests of the run's report by request type and
	// report status (report.Totals.ByStatus). Every type and status of the
	// lifecycle table is written, 0 when absent here.
	Requests map[string]map[string]int
	Rejects  int64 // manifest rows rejected (report.Totals.Rejects)
	DueSoon  int   // open requests due within the report's due-soon window
	Overdue  int   // open requests past their due date
	Late     int   // requests completed after their due date, or open past it

	InFlightLimit int             // K: the client's cap on calls in flight per API group
	API           clevertap.Stats // the client's counters, per API group
}

// succeeded reports whether the run counts as a success for
// ctdsr_last_success_timestamp_seconds: it exited 0, every request in a good
// status. A run that exits 3 (rows failed or rejected) finished its work,
// but a person must look, so it is not a success here.
func (in metricsInput) succeeded() bool { return in.ExitCode == ExitOK }

// writeMetrics writes in to path in the Prometheus text format, atomically:
// a temporary file in the same directory is written, fsynced, made
// metricsFileMode and renamed over path, and the directory is fsynced. A
// reader sees the old file or the new one, never a part.
//
// ctdsr_last_success_timestamp_seconds is in.Ended when the run succeeded.
// Otherwise it is read back from the file at path, which a previous run
// wrote; when there is none, or it has no such sample, the metric is left
// out (alert on absent() for "never succeeded"). When the previous file
// exists but cannot be read or parsed, the new file is still written,
// without the metric, and the error says so.
//
// On any other error the file at path is left as it was.
func writeMetrics(path string, in metricsInput) error {
	var lastSuccess time.Time
	var prevErr error
	if in.succeeded() {
		lastSuccess = in.Ended
	} else {
		lastSuccess, prevErr = readLastSuccess(path, in.Account)
	}
	reg, err := metricsRegistry(in, lastSuccess)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	families, err := reg.Gather()
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	err = writeFileAtomic(path, metricsFileMode, func(w io.Writer) error {
		enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range families {
			if err := enc.Encode(mf); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("metrics file: %w", err)
	}
	if prevErr != nil {
		return fmt.Errorf("metrics file %s written without %s: %w", path, metricLastSuccess, prevErr)
	}
	return nil
}

// metricsRegistry builds a registry holding the metrics of in. A zero
// lastSuccess leaves ctdsr_last_success_timestamp_seconds out.
func metricsRegistry(in metricsInput, lastSuccess time.Time) (*prometheus.Registry, error) {
	reg := prometheus.NewPedanticRegistry()
	var r prometheus.Registerer = reg
	if in.Account != "" {
		r = prometheus.WrapRegistererWith(prometheus.Labels{metricAccountLabel: in.Account}, reg)
	}
	m := metricsBuilder{r: r}

	requests := m.gaugeVec(metricRequests, "Requests in the run's requests.parquet report, by request type and status.", "type", "status")
	for _, info := range batch.Statuses() {
		for _, typ := range info.Types {
			requests.WithLabelValues(string(typ), info.Report).Set(0)
		}
	}
	for typ, byStatus := range in.Requests {
		for status, n := range byStatus {
			requests.WithLabelValues(typ, status).Set(float64(n))
		}
	}
	m.gauge(metricRequestsOverdue, "Open requests of the run's report past their due date.", float64(in.Overdue))
	m.gauge(metricRequestsDueSoon, fmt.Sprintf("Open requests of the run's report due within %d days.", checkpoint.DefaultDueWithin/(24*time.Hour)), float64(in.DueSoon))
	m.gauge(metricRequestsLate, "Requests of the run's report completed after their due date or still open past it.", float64(in.Late))
	m.gauge(metricRejects, "Manifest rows rejected (rejects.parquet).", float64(in.Rejects))

	calls := m.gaugeVec(metricAPICalls, "CleverTap API calls of the run (one per call or cursor page), by API group.", "group")
	attempts := m.gaugeVec(metricAPIAttempts, "HTTP attempts of the run, retries included, by API group.", "group")
	retries := m.gaugeVec(metricAPIRetries, "HTTP attempts of the run that were retried, by API group.", "group")
	limited := m.gaugeVec(metricAPIRateLimited, "HTTP 429 answers (too many concurrent requests) of the run, by API group.", "group")
	inFlight := m.gaugeVec(metricAPIMaxInFlight, "Most CleverTap requests in flight at once during the run, by API group.", "group")
	for g, n := range in.API.Calls {
		calls.WithLabelValues(string(g)).Set(float64(n))
	}
	for g, n := range in.API.Attempts {
		attempts.WithLabelValues(string(g)).Set(float64(n))
	}
	for g, n := range in.API.Retries {
		retries.WithLabelValues(string(g)).Set(float64(n))
	}
	for g, n := range in.API.RateLimited {
		limited.WithLabelValues(string(g)).Set(float64(n))
	}
	for g, n := range in.API.MaxInFlight {
		inFlight.WithLabelValues(string(g)).Set(float64(n))
	}
	m.gauge(metricAPIInFlightLimit, "The run's cap on CleverTap requests in flight per API group (K).", float64(in.InFlightLimit))

	m.gauge(metricRunDuration, "Wall-clock duration of the run.", max(0, in.Ended.Sub(in.Started).Seconds()))
	m.gauge(metricRunStart, "When the run started, as a Unix time.", unixSeconds(in.Started))
	m.gauge(metricRunEnd, "When the run ended, as a Unix time.", unixSeconds(in.Ended))
	m.gauge(metricRunExitCode, "Exit code of the run: 0 ok, 1 fatal, 2 usage or unreadable input, 3 rows failed or rejected or work left for the next run, 130 interrupted.", float64(in.ExitCode))
	outcome := m.gaugeVec(metricRunOutcome, "How the run ended: 1 for its outcome, 0 for the others.", "outcome")
	for _, o := range outcomes {
		v := 0.0
		if o == in.Outcome {
			v = 1
		}
		outcome.WithLabelValues(string(o)).Set(v)
	}
	if !lastSuccess.IsZero() {
		m.gauge(metricLastSuccess, "When a run last ended with exit code 0, as a Unix time; kept from the previous file by runs that did not.", unixSeconds(lastSuccess))
	}
	build := m.gaugeVec(metricBuildInfo, "Always 1; the labels say which ctdsr and Go wrote the file.", "version", "goversion")
	build.WithLabelValues(in.Version, runtime.Version()).Set(1)
	return reg, m.err
}

// metricsBuilder registers metrics and keeps the first registration error.
type metricsBuilder struct {
	r   prometheus.Registerer
	err error
}

func (m *metricsBuilder) register(c prometheus.Collector) {
	if err := m.r.Register(c); err != nil && m.err == nil {
		m.err = err
	}
}

func (m *metricsBuilder) gauge(name, help string, v float64) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	g.Set(v)
	m.register(g)
}

func (m *metricsBuilder) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	m.register(g)
	return g
}

// unixSeconds is t as fractional Unix seconds, 0 for the zero time.
func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

// readLastSuccess returns ctdsr_last_success_timestamp_seconds from the
// metrics file at path, for account (its account label; "" matches a
// sample without one). A missing file, or one without the metric, gives
// the zero time and no error.
func readLastSuccess(path, account string) (time.Time, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("previous metrics: %w", err)
	}
	defer f.Close()
	families, err := parseMetrics(io.LimitReader(f, metricsPreviousReadLimit))
	if err != nil {
		return time.Time{}, fmt.Errorf("previous metrics %s: %w", path, err)
	}
	mf, ok := families[metricLastSuccess]
	if !ok {
		return time.Time{}, nil
	}
	if mf.GetType() != dto.MetricType_GAUGE {
		return time.Time{}, fmt.Errorf("previous metrics %s: %s is a %s, want a gauge", path, metricLastSuccess, mf.GetType())
	}
	var best float64
	for _, m := range mf.GetMetric() {
		if labelValue(m, metricAccountLabel) != account {
			continue
		}
		if v := m.GetGauge().GetValue(); v > best && !math.IsInf(v, 0) && !math.IsNaN(v) {
			best = v
		}
	}
	if best <= 0 {
		return time.Time{}, nil
	}
	sec, frac := math.Modf(best)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// parseMetrics parses the Prometheus text format with classic (legacy)
// metric-name rules, as the textfile collector does.
func parseMetrics(r io.Reader) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	return families, nil
}

func labelValue(m *dto.Metric, name string) string {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == name {
			return lp.GetValue()
		}
	}
	return ""
}

// writeFileAtomic writes path through write, via a temporary file in the
// same directory that is fsynced, given mode and renamed over path; then
// the directory is fsynced so the rename survives a crash. On error the
// temporary file is removed and path is left as it was.
func writeFileAtomic(path string, mode fs.FileMode, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, metricsTempPrefix+base+".*"+metricsTempSuffix)
	if err != nil {
		return fmt.Errorf("create temporary file for %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	steps := []struct {
		what string
		do   func() error
	}{
		{"write", func() error { return write(tmp) }},
		{"fsync", tmp.Sync},
		{"chmod", func() error { return tmp.Chmod(mode) }}, // CreateTemp makes 0600; chmod ignores the umask
		{"close", tmp.Close},
		{"rename", func() error { return os.Rename(tmp.Name(), path) }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			return fmt.Errorf("%s %s: %w", s.what, path, err)
		}
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync directory of %s: %w", path, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory of %s: %w", path, err)
	}
	return nil
}

// writeMetricsFile is the job's --metrics-file step: it writes the metrics
// of the run that ended with runErr (the job's final error, which decides
// the exit code) to path. The run's error comes back unchanged, joined
// with the metrics error if there is one; a metrics file that cannot be
// written makes an otherwise good run exit 1, so a stale file does not go
// unnoticed.
func (j *job) writeMetricsFile(ctx context.Context, path string, runErr error) error {
	in := j.metricsInput(ctx, runErr)
	if err := writeMetrics(path, in); err != nil {
		j.log.Error("metrics file", "path", path, "err", err)
		return joinOneLine(runErr, err)
	}
	return runErr
}

// metricsInput gathers the metrics of the job that ended with runErr.
func (j *job) metricsInput(ctx context.Context, runErr error) metricsInput {
	ended := j.sum.EndedAt
	if ended.IsZero() {
		ended = j.cfg.Now().UTC()
	}
	in := metricsInput{
		Account:  strings.TrimSpace(j.env.Getenv("CLEVERTAP_ACCOUNT_ID")), // as apiFlags.client reads it
		Version:  version,
		Outcome:  j.outcome,
		ExitCode: exitCode(ctx, &Env{Stderr: io.Discard}, runErr), // the same switch main uses, printing nothing
		Started:  j.sum.StartedAt,
		Ended:    ended,
		Requests: j.sum.Reports.ByStatus,
		Rejects:  j.sum.Reports.Rejects,
		DueSoon:  j.sum.Reports.DueSoon,
		Overdue:  j.sum.Reports.Overdue,
		Late:     j.sum.Reports.Late,
		API:      j.client.Stats(),

		InFlightLimit: j.client.PerGroup(),
	}
	return in
}
