package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/batch/manifest"
	"github.com/ctdsr/ctdsr/batch/report"
	"github.com/ctdsr/ctdsr/checkpoint"
	"github.com/ctdsr/ctdsr/clevertap"
)

// heartbeatEvery is how often a run refreshes its ledger lock.
const heartbeatEvery = 20 * time.Second

// job is one run of `ctdsr run` (and of the demo), in named steps: open
// (take the ledger), ingest (load manifests), execute (the engine), report
// (render the ledger into --out) and close (release the ledger with the
// outcome). Reports are written even after an interruption or a fatal API
// error, for what is done.
type job struct {
	cfg    jobConfig
	env    *Env
	client *clevertap.Client
	log    *slog.Logger

	store *checkpoint.Store
	runID string
	// zoneChanged: --timezone differs from the zone the ledger remembers;
	// the data must agree with it, or the run is a usage error.
	zoneChanged    string
	zoneRemembered string          // the zone the ledger remembered at the start
	bg             context.Context // ledger writes and reports must happen even after an interruption
	stopKeep       func() error    // stops the heartbeat; its error is the heartbeat's
	progress       *batch.Progress
	sum            runSummary
	outcome        Outcome
	lookAt         []string // the report files that hold what went wrong
}

// runJob runs one job. Its error maps to the exit code (exit.go).
func runJob(ctx context.Context, env *Env, client *clevertap.Client, cfg jobConfig, log *slog.Logger) (err error) {
	j := &job{cfg: cfg, env: env, client: client, log: log, bg: context.WithoutCancel(ctx),
		progress: &batch.Progress{}, outcome: OutcomeFatal}
	j.sum = runSummary{ToolVersion: version, StartedAt: cfg.Now().UTC()}
	if cfg.MetricsFile != "" { // deferred first, so it runs last: after close, with the final error
		defer func() { err = j.writeMetricsFile(ctx, cfg.MetricsFile, err) }()
	}
	// A manifest that is not there, or whose header cannot be read, cannot
	// be loaded: say so before creating or locking a ledger for nothing.
	if err := manifestsReadable(ctx, cfg.Manifests, manifest.Options{Sheet: cfg.Sheet, Location: time.UTC}); err != nil {
		j.outcome = OutcomeUnreadableInput
		return j.failEarly(err)
	}
	if err := j.open(ctx); err != nil {
		return err
	}
	defer func() { err = j.close(err) }()
	if err := j.resolveZone(ctx); err != nil {
		return err
	}

	// Find an unwritable --out now, not after the deletes were sent.
	if err := checkOutputDir(cfg.Out); err != nil {
		return err
	}
	if err := j.ingest(ctx); err != nil {
		return err
	}
	runErr := j.execute(ctx)
	if errors.Is(runErr, checkpoint.ErrLockLost) {
		return runErr // another run owns the ledger now: write nothing
	}
	if runErr = j.settleZone(runErr); errors.As(runErr, new(*UsageError)) {
		j.outcome = OutcomeFatal
	}
	if err := j.report(); err != nil {
		j.outcome = OutcomeFatal
		return joinOneLine(runErr, err)
	}
	return j.outcome.err(j.runID, cfg.Out, j.lookAt, runErr)
}

// failEarly records in summary.json that the run stopped before it
// started, where monitoring looks, and returns err.
func (j *job) failEarly(err error) error {
	j.sum.Outcome, j.sum.Error, j.sum.EndedAt = j.outcome, err.Error(), j.cfg.Now().UTC()
	if cerr := checkOutputDir(j.cfg.Out); cerr != nil {
		return joinOneLine(err, cerr)
	}
	if werr := report.WriteJSON(filepath.Join(j.cfg.Out, report.SummaryFile), j.sum); werr != nil {
		return joinOneLine(err, werr)
	}
	return err
}

// manifestsOpenable checks that every manifest names a file of a known
// format that can be opened.
func manifestsOpenable(paths []string) error {
	for _, path := range paths {
		if _, err := manifest.FormatOf(path); err != nil {
			return &UsageError{Err: fmt.Errorf("%s: %w", path, err), Hint: "check the --manifest path"}
		}
		f, err := os.Open(path)
		if err == nil {
			var fi os.FileInfo
			if fi, err = f.Stat(); err == nil && fi.IsDir() {
				err = errors.New("is a directory")
			}
			f.Close()
		}
		if err != nil {
			return cannotRead(path, err)
		}
	}
	return nil
}

// errHeaderRead stops manifestsReadable's read at the first data row.
var errHeaderRead = errors.New("manifest header read")

// manifestsReadable checks, before any ledger is created or locked, that
// every manifest can be read as a whole: it opens (manifestsOpenable), its
// content is the format its name says, and its header (the sheet's, for a
// workbook) maps onto the required columns with usable types. It reads
// with the manifest reader itself, so the rules are the import's, but
// stops at the first data row: the rows are read once, by the import. A
// problem further down (broken quoting at row 500,000) is still found
// there, after the ledger exists.
func manifestsReadable(ctx context.Context, paths []string, opts manifest.Options) error {
	if err := manifestsOpenable(paths); err != nil {
		return err
	}
	opts.NoDedup = true
	for _, path := range paths {
		_, err := manifest.Read(ctx, path, opts, func(manifest.Row) error { return errHeaderRead })
		switch {
		case err == nil || errors.Is(err, errHeaderRead):
		case errors.As(err, new(*manifest.FileError)):
			return &UsageError{Err: err, Hint: "fix the file, or see 'ctdsr validate --help'"}
		default:
			return err
		}
	}
	return nil
}

// open takes the ledger for this run and keeps its lock alive.
func (j *job) open(ctx context.Context) error {
	store, err := checkpoint.Open(ctx, j.cfg.State, checkpoint.Options{Now: j.cfg.Now, Logger: j.log.WithGroup("ledger")})
	if err != nil {
		return err
	}
	runID, err := store.BeginRun(ctx, checkpoint.RunInfo{Args: j.cfg.Args, ToolVersion: version})
	if err != nil {
		store.Close()
		return err
	}
	j.store, j.runID, j.sum.RunID = store, runID, runID
	j.log = j.log.With("run_id", runID)
	keepCtx, cancel := context.WithCancel(j.bg)
	keepErr := make(chan error, 1)
	go func() { keepErr <- store.KeepAlive(keepCtx, runID, heartbeatEvery) }()
	j.stopKeep = func() error {
		cancel()
		return <-keepErr
	}
	return nil
}

// close stops the heartbeat, records the outcome and releases the ledger.
// err is the job's error so far; close adds its own failures to it.
func (j *job) close(err error) error {
	if kerr := j.stopKeep(); kerr != nil && err == nil {
		err = fmt.Errorf("ledger heartbeat: %w", kerr)
	}
	if eerr := j.store.EndRun(j.bg, j.runID, string(j.outcome)); eerr != nil && err == nil {
		err = eerr
	}
	if cerr := j.store.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// ingest loads the manifests into the ledger. When one cannot be read, no
// request is worked on; summary.json says so where monitoring looks.
func (j *job) ingest(ctx context.Context) error {
	opts := manifest.Options{Sheet: j.cfg.Sheet, Location: time.UTC}
	ing, err := ingest(ctx, j.store, j.runID, j.cfg.Manifests, opts, j.log)
	j.sum.Manifests, j.sum.Import = ing.Manifests, ing.Counts
	if err == nil {
		return nil
	}
	if errors.As(err, new(*UsageError)) {
		j.outcome = OutcomeUnreadableInput
	}
	return j.failEarly(err)
}

// execute runs the engine over everything open in the ledger, showing
// progress, and sets the outcome from how it ended.
func (j *job) execute(ctx context.Context) error {
	runner, err := batch.NewRunner(j.cfg.Batch, batch.Deps{RunID: j.runID, Store: j.store, API: j.client,
		Account: j.client.Account(), Now: j.cfg.Now, Logger: j.log, Progress: j.progress})
	if err != nil {
		return err
	}
	runCtx, stopRun := ctx, func() {}
	if j.cfg.MaxDuration > 0 {
		runCtx, stopRun = context.WithTimeout(ctx, j.cfg.MaxDuration)
	}
	defer stopRun()
	pctx, stopProgress := context.WithCancel(ctx)
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		reportProgress(pctx, j.env.Stderr, isTerminal(j.env.Stderr), j.log, j.progress,
			func() int64 { return totalCalls(j.client.Stats()) }, j.cfg.ProgressEvery)
	}()
	workStart := time.Now()
	runErr := runner.Run(runCtx)
	j.sum.Run.WorkSeconds = time.Since(workStart).Seconds()
	stopProgress()
	<-progressDone
	j.sum.Zone = runner.ZoneEvidence()
	j.sum.UnexportableEvents = runner.Unexportable()

	switch {
	case runErr == nil:
		j.outcome = OutcomeOK
	case ctx.Err() != nil && !errors.Is(runErr, batch.ErrFatal):
		j.outcome = OutcomeInterrupted
	case errors.Is(runErr, batch.ErrOutOfTime):
		j.outcome = OutcomeOutOfTime
		j.sum.Error = runErr.Error()
		j.log.Warn("run stopped at --max-duration; the next run continues", "max_duration", formatDuration(j.cfg.MaxDuration))
		return nil
	default:
		j.sum.Error = runErr.Error()
	}
	return runErr
}

// report renders the reports from the ledger, then summary.json, and
// prints the totals. The reports are the ledger's view: every open
// request, those closed within the report window, and what this run
// touched; the outcome depends on what this run did.
func (j *job) report() error {
	const dueWithin = checkpoint.DefaultDueWithin
	now := j.cfg.Now()
	sel := report.Selection{RunID: j.runID, ClosedSince: now.Add(-j.cfg.ReportWindow), Now: now}
	r, err := renderReports(j.bg, j.store, j.cfg.Out, sel, dueWithin, j.cfg.Batch.Location, []report.SummaryItem{
		{Label: "Run", Value: j.runID}, {Label: "Outcome", Value: string(j.outcome)},
		{Label: "Account timezone", Value: j.cfg.Batch.Location.String()},
		{Label: "Closed requests shown since (UTC)", Value: sel.ClosedSince.UTC()},
	})
	if err != nil {
		return err
	}
	totals := r.Totals
	did, err := j.store.RunCounts(j.bg, j.runID)
	if err != nil {
		return err
	}
	counts, err := j.store.Counts(j.bg, dueWithin)
	if err != nil {
		return err
	}
	if j.outcome == OutcomeOK && (hasProblems(did) || j.progress.Failed.Load() > 0) {
		j.outcome = OutcomeRowsFailed
	}
	j.lookAt = whereToLook(did, j.progress.Failed.Load())
	if j.outcome == OutcomeOutOfTime && counts.Open == 0 {
		j.outcome = OutcomeOK // it ran out of time with nothing left to do
	}
	j.sum.Outcome = j.outcome
	j.sum.EndedAt = j.cfg.Now().UTC()
	j.sum.Reports = totals
	j.sum.ReportWindow = formatDuration(j.cfg.ReportWindow)
	j.sum.Ledger = ledgerSummaryOf(counts)
	j.sum.Run = runDid{WorkSeconds: j.sum.Run.WorkSeconds, Touched: statusMap(did.ByStatus), Finished: j.progress.Finished.Load(),
		FailedAttempts: j.progress.Failed.Load(), Rejects: did.Rejects,
		Reswept: j.progress.Reswept.Load(), Reappeared: j.progress.Reappeared.Load()}
	j.sum.API = apiSummaryOf(j.client.Stats(), j.client.PerGroup())
	j.sum.OutputFiles = r.Files
	if err := j.writeSummary(); err != nil {
		return err
	}
	printTotals(j.env.Stdout, j.runID, j.cfg.Out, totals, dueWithin)
	return nil
}

// writeSummary links the summary to the previous run's, writes it and
// records its own digest in the ledger for the next one.
func (j *job) writeSummary() error {
	var err error
	if j.sum.PreviousRunID, j.sum.PreviousSummarySHA256, err = j.store.PreviousSummary(j.bg, j.runID); err != nil {
		return err
	}
	path := filepath.Join(j.cfg.Out, report.SummaryFile)
	if err := report.WriteJSON(path, j.sum); err != nil {
		return err
	}
	sha, err := report.SHA256File(path)
	if err != nil {
		return err
	}
	return j.store.RecordSummary(j.bg, j.runID, sha)
}

// checkOutputDir creates the report directory (0700) if needed and checks
// that a file can be created in it.
func checkOutputDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	f, err := os.CreateTemp(dir, ".ctdsr-write-check-*")
	if err != nil {
		return fmt.Errorf("output directory %s is not writable: %w", dir, errors.Unwrap(err))
	}
	f.Close()
	return os.Remove(f.Name())
}

// joinOneLine is errors.Join on one line: main prints an error as one line
// (cron mail, log collectors). Both errors stay visible to errors.Is.
func joinOneLine(first, second error) error {
	if first == nil {
		return second
	}
	return fmt.Errorf("%w; %w", first, second)
}

// whereToLook names the report files holding what a run that did not go
// cleanly should be looked at in: rejects, or requests (failed attempts
// and statuses a person must look at), or both.
func whereToLook(did checkpoint.RunCounts, failedAttempts int64) []string {
	var files []string
	problems := failedAttempts > 0
	for _, sc := range did.ByStatus {
		problems = problems || (sc.Status.Problem() && sc.N > 0)
	}
	if problems {
		files = append(files, report.RequestsFile+" (status and detail)")
	}
	if did.Rejects > 0 {
		files = append(files, report.RejectsFile)
	}
	return files
}

// hasProblems reports whether a run's requests include rejected rows or
// requests in a status a person must look at (batch.Status.Problem:
// failed, reappeared, conflict).
func hasProblems(did checkpoint.RunCounts) bool {
	if did.Rejects > 0 {
		return true
	}
	for _, sc := range did.ByStatus {
		if sc.Status.Problem() && sc.N > 0 {
			return true
		}
	}
	return false
}
