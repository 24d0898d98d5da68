package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/batch/manifest"
	"github.com/ctdsr/ctdsr/batch/report"
	"github.com/ctdsr/ctdsr/checkpoint"
	"github.com/ctdsr/ctdsr/clevertap"
)

const runSynopsis = `[--manifest F ...] --state LEDGER.db --out DIR [flags]

Carries out the requests in the manifests and continues what the ledger
holds: pending verifications and retryable failures. Credentials come from
CLEVERTAP_ACCOUNT_ID and CLEVERTAP_PASSCODE (or --passcode-file).`

// runOptions is everything one run needs; `run` fills it from flags and
// `demo` from its own set-up.
type runOptions struct {
	manifests        []string
	state            string
	out              string
	sheet            string
	workers          int
	verifyWindow     time.Duration
	verifyFirst      time.Duration
	emailLookback    int
	verifyDeadline   time.Duration
	completeOnSubmit bool
	location         *time.Location
	perGroup         int
	args             []string
	progressEvery    time.Duration
	now              func() time.Time // nil: time.Now
}

func cmdRun(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "run", runSynopsis)
	var (
		api        apiFlags
		lf         logFlags
		opts       runOptions
		manifests  multiFlag
		completeOn string
		dryRun     bool
	)
	api.register(fs)
	lf.register(fs, "info")
	fs.Var(&manifests, "manifest", "manifest file (CSV, Parquet or .xlsx); repeatable")
	fs.StringVar(&opts.state, "state", "", "the SQLite ledger file (created if missing)")
	fs.StringVar(&opts.out, "out", "", "directory for the Parquet reports and summary.json")
	fs.StringVar(&opts.sheet, "sheet", "", "workbook sheet to read (default: the first)")
	fs.IntVar(&opts.workers, "workers", 16, "requests worked on at once (the quota bounds calls in flight)")
	fs.DurationVar(&opts.verifyWindow, "verify-window", 2*time.Minute, "how long to keep polling pending deletion verifications")
	fs.DurationVar(&opts.verifyFirst, "verify-first", 15*time.Second, "wait before the first verification search; each later one waits twice as long (up to 6h)")
	fs.IntVar(&opts.emailLookback, "email-lookback-days", 365, "email-filtered event exports look back this many days before a subject's first event, to find profiles sharing the email (costs no calls)")
	fs.DurationVar(&opts.verifyDeadline, "verify-deadline", 72*time.Hour, "fail a deletion whose profile is still found this long after the delete")
	fs.StringVar(&completeOn, "deletion-complete-on", "verified", "when a deletion is done: verified, or submit (CleverTap accepted it)")
	fs.BoolVar(&dryRun, "dry-run", false, "read manifests and look subjects up only; delete nothing, write no ledger")
	fs.DurationVar(&opts.progressEvery, "progress-every", 30*time.Second, "interval of progress log lines when stderr is not a terminal")
	if err := parseFlags(fs, "run", args); err != nil {
		return err
	}
	opts.manifests = manifests
	switch completeOn {
	case "verified":
	case "submit":
		opts.completeOnSubmit = true
	default:
		return usageErrorf("run", "--deletion-complete-on %q: want verified or submit", completeOn)
	}
	if opts.workers < 1 {
		return usageErrorf("run", "--workers must be at least 1")
	}
	log, err := lf.logger("run", env)
	if err != nil {
		return err
	}
	if opts.location, err = api.location("run"); err != nil {
		return err
	}
	client, err := api.client("run", env, opts.location, log)
	if err != nil {
		return err
	}
	opts.perGroup = client.PerGroup()
	if dryRun {
		if len(opts.manifests) == 0 {
			return usageErrorf("run", "--dry-run needs at least one --manifest")
		}
		return dryRunManifests(ctx, env, client, opts, log)
	}
	if opts.state == "" || opts.out == "" {
		return usageErrorf("run", "--state and --out are required")
	}
	opts.args = redactArgs(args)
	return runJob(ctx, env, client, opts, log)
}

// runJob is one run: lock the ledger, load manifests, carry out the work,
// write the reports from the ledger, release the lock. Reports are written
// even after an interruption or a fatal API error, for what is done.
func runJob(ctx context.Context, env *Env, client *clevertap.Client, o runOptions, log *slog.Logger) (err error) {
	now := o.now
	if now == nil {
		now = time.Now
	}
	started := now()
	store, err := checkpoint.Open(ctx, o.state, checkpoint.Options{Now: now, Logger: log.WithGroup("ledger")})
	if err != nil {
		return fmt.Errorf("opening ledger %s: %w", o.state, err)
	}
	defer store.Close()
	runID, err := store.BeginRun(ctx, checkpoint.RunInfo{Args: o.args, ToolVersion: version})
	if err != nil {
		return fmt.Errorf("ledger %s: %w", o.state, err)
	}
	log = log.With("run_id", runID)
	// Ledger writes after an interruption must still happen.
	bg := context.WithoutCancel(ctx)
	keepCtx, stopKeep := context.WithCancel(bg)
	keepErr := make(chan error, 1)
	go func() { keepErr <- store.KeepAlive(keepCtx, runID, 20*time.Second) }()

	sum := runSummary{RunID: runID, ToolVersion: version, StartedAt: started.UTC()}
	outcome := "fatal"
	defer func() {
		stopKeep()
		if kerr := <-keepErr; kerr != nil && err == nil {
			err = fmt.Errorf("ledger heartbeat: %w", kerr)
		}
		if eerr := store.EndRun(bg, runID, outcome); eerr != nil && err == nil {
			err = fmt.Errorf("ledger: %w", eerr)
		}
	}()

	// Find an unwritable --out now, not after the deletes were sent.
	if err := checkOutputDir(o.out); err != nil {
		return err
	}

	ing, err := ingest(ctx, store, runID, o.manifests, manifest.Options{Sheet: o.sheet, Location: time.UTC, Dedup: manifest.NewDeduper()}, log)
	sum.Manifests = ing.Manifests
	sum.Import = importCounts{ing.Added, ing.Unchanged, ing.Merged, ing.Rejected, ing.Conflicts}
	if err != nil {
		if errors.As(err, new(*UsageError)) {
			outcome = "unreadable_input"
		}
		// No request was worked on; say so where monitoring looks.
		sum.Outcome, sum.Error, sum.EndedAt = outcome, err.Error(), now().UTC()
		if werr := report.WriteJSON(filepath.Join(o.out, report.SummaryFile), sum); werr != nil {
			return joinOneLine(err, werr)
		}
		return err
	}

	progress := &batch.Progress{}
	runner, err := batch.NewRunner(batch.Config{
		RunID: runID, Store: store, API: client, Workers: o.workers, Location: o.location,
		VerifyWindow: o.verifyWindow, VerifyFirst: o.verifyFirst, EmailLookbackDays: lookbackDays(o.emailLookback), VerifyDeadline: o.verifyDeadline, CompleteOnSubmit: o.completeOnSubmit,
		Now: now, Logger: log, Progress: progress,
	})
	if err != nil {
		return err
	}
	pctx, stopProgress := context.WithCancel(ctx)
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		reportProgress(pctx, env.Stderr, isTerminal(env.Stderr), log, progress, func() int64 { return totalCalls(client.Stats()) }, o.progressEvery)
	}()
	runErr := runner.Run(ctx)
	stopProgress()
	<-progressDone

	switch {
	case runErr == nil:
		outcome = "ok"
	case ctx.Err() != nil && !errors.Is(runErr, batch.ErrFatal):
		outcome = "interrupted"
	default:
		sum.Error = runErr.Error()
	}
	if errors.Is(runErr, checkpoint.ErrLockLost) {
		return runErr // another run owns the ledger now: write nothing
	}

	const dueWithin = checkpoint.DefaultDueWithin
	totals, werr := report.WriteRun(bg, o.out, store, runID, now(), dueWithin, isOpen(o.completeOnSubmit))
	if werr != nil {
		outcome = "fatal"
		return joinOneLine(runErr, fmt.Errorf("writing reports: %w", werr))
	}
	if outcome == "ok" && (hasFailures(totals) || progress.Failed.Load() > 0) {
		outcome = "rows_failed"
	}
	sum.Outcome = outcome
	sum.EndedAt = now().UTC()
	sum.Reports = totals
	sum.API = apiSummaryOf(client.Stats(), o.perGroup)
	sum.OutputFiles = []string{report.RequestsFile, report.ProfilesFile, report.EventsFile, report.DeletionsFile, report.RejectsFile, report.SummaryFile}
	if werr := report.WriteJSON(filepath.Join(o.out, report.SummaryFile), sum); werr != nil {
		outcome = "fatal"
		return joinOneLine(runErr, werr)
	}
	printTotals(env.Stdout, runID, o.out, totals, dueWithin)
	switch outcome {
	case "ok":
		return nil
	case "rows_failed":
		return fmt.Errorf("run %s: %w (see %s)", runID, ErrRowsFailed, filepath.Join(o.out, report.RequestsFile))
	case "interrupted":
		return fmt.Errorf("run %s: %w", runID, ErrInterrupted)
	}
	return runErr
}

// checkOutputDir creates the report directory (0700) if needed and checks
// that a file can be created in it.
func checkOutputDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("output directory %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".ctdsr-write-check-*")
	if err != nil {
		return fmt.Errorf("output directory %s is not writable: %w", dir, err)
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

// lookbackDays maps the flag (0 = none) to batch.Config's (0 = default).
func lookbackDays(flag int) int {
	if flag <= 0 {
		return -1
	}
	return flag
}

// isOpen reports whether a request status, as the reports show it, is not
// final, for due-date counts. The reports call an accepted delete
// "submitted" (checkpoint.ReportStatus), which is the ledger's
// StatusDeleteSubmitted.
func isOpen(completeOnSubmit bool) func(typ, status string) bool {
	return func(typ, status string) bool {
		st := batch.Status(status)
		if status == checkpoint.ReportStatus(batch.StatusDeleteSubmitted) {
			st = batch.StatusDeleteSubmitted
		}
		return !st.Terminal(batch.RequestType(typ), completeOnSubmit)
	}
}

// hasFailures reports rows that failed, were rejected, or reappeared.
func hasFailures(t report.Totals) bool {
	if t.Rejects > 0 {
		return true
	}
	for _, byStatus := range t.ByStatus {
		if byStatus[string(batch.StatusFailed)] > 0 || byStatus[string(batch.StatusReappeared)] > 0 {
			return true
		}
	}
	return false
}

// printTotals writes the short table a person reads at the end of a run.
func printTotals(w io.Writer, runID, out string, t report.Totals, dueWithin time.Duration) {
	fmt.Fprintf(w, "run %s\n", runID)
	types := make([]string, 0, len(t.ByStatus))
	for typ := range t.ByStatus {
		types = append(types, typ)
	}
	sort.Strings(types)
	for _, typ := range types {
		statuses := make([]string, 0, len(t.ByStatus[typ]))
		for st := range t.ByStatus[typ] {
			statuses = append(statuses, st)
		}
		sort.Strings(statuses)
		parts := make([]string, 0, len(statuses))
		for _, st := range statuses {
			parts = append(parts, fmt.Sprintf("%s %d", st, t.ByStatus[typ][st]))
		}
		fmt.Fprintf(w, "  %-9s %s\n", typ, strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "  rejects   %d\n", t.Rejects)
	fmt.Fprintf(w, "  exported  %d profile(s), %d event(s)\n", t.Profiles, t.Events)
	if t.Overdue+t.DueSoon > 0 {
		fmt.Fprintf(w, "  due       %d overdue, %d due within %d days\n", t.Overdue, t.DueSoon, dueWithin/(24*time.Hour))
	}
	fmt.Fprintf(w, "reports in %s\n", out)
}

// redactArgs keeps the command line for the ledger's runs table without
// anything secret (there should be nothing: the passcode never comes from
// a flag, but a path to a passcode file is not worth keeping either).
func redactArgs(args []string) []string {
	out := make([]string, 0, len(args))
	skip := false
	for _, a := range args {
		switch {
		case skip:
			out = append(out, "[REDACTED]")
			skip = false
		case a == "--passcode-file" || a == "-passcode-file":
			out = append(out, a)
			skip = true
		case strings.HasPrefix(a, "--passcode-file=") || strings.HasPrefix(a, "-passcode-file="):
			out = append(out, strings.SplitN(a, "=", 2)[0]+"=[REDACTED]")
		default:
			out = append(out, a)
		}
	}
	return out
}
