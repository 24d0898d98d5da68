package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/ctdsr/ctdsr/batch"
)

const runSynopsis = `[--manifest F ...] --state LEDGER.db --out DIR [flags]

Carries out the requests in the manifests and continues what the ledger
holds: pending verifications and retryable failures. Credentials come from
CLEVERTAP_ACCOUNT_ID and CLEVERTAP_PASSCODE (or --passcode-file).`

// jobConfig is everything one run needs: the engine's settings and the
// job's own (files, progress, the command line for the ledger).
type jobConfig struct {
	Batch         batch.Config
	Manifests     []string
	State         string
	Out           string
	Sheet         string
	ProgressEvery time.Duration
	// ReportWindow is how far back closed requests appear in the reports.
	ReportWindow time.Duration
	// MaxDuration ends the run cleanly after this long (0: no limit).
	MaxDuration time.Duration
	// MetricsFile, when set, receives the run's metrics in the Prometheus
	// text format at the end of every run (metrics.go).
	MetricsFile string
	// ZoneGiven says --timezone was given, rather than remembered by the
	// ledger or the UTC default.
	ZoneGiven bool
	Args      []string         // the command line, without secrets, for the ledger
	Now       func() time.Time // the clock of the ledger and the engine
}

// defaultJobConfig holds every default of a run once: the engine's come
// from batch.DefaultConfig, the quota's from clevertap.DefaultQuota.
func defaultJobConfig() jobConfig {
	return jobConfig{Batch: batch.DefaultConfig(), ProgressEvery: 30 * time.Second, ReportWindow: 30 * day, Now: time.Now}
}

// register binds the run's flags straight to the fields of c, with c's
// values as the defaults.
func (c *jobConfig) register(fs *flag.FlagSet) {
	b := &c.Batch
	fs.Var((*multiFlag)(&c.Manifests), "manifest", "manifest file (CSV, Parquet or .xlsx); repeatable")
	fs.StringVar(&c.State, "state", c.State, "the SQLite ledger file (created if missing)")
	fs.StringVar(&c.Out, "out", c.Out, "directory for the Parquet reports and summary.json")
	fs.StringVar(&c.Sheet, "sheet", c.Sheet, "workbook sheet to read (default: the first)")
	fs.IntVar(&b.Workers, "workers", b.Workers, "requests worked on at once (the quota bounds calls in flight)")
	durationVar(fs, &b.VerifyWindow, "verify-window", "how long to keep polling pending deletion verifications")
	durationVar(fs, &b.VerifyFirst, "verify-first",
		fmt.Sprintf("wait before the first verification search; each later one waits twice as long (up to %s)", formatDuration(b.VerifyMax)))
	fs.IntVar(&b.EmailLookbackDays, "email-lookback-days", b.EmailLookbackDays,
		"email-filtered event exports look back this many days before a subject's first event, to find profiles sharing the email (costs no calls; 0 = none)")
	durationVar(fs, &b.VerifyDeadline, "verify-deadline", "fail a deletion whose profile is still found this long after the delete")
	fs.Var(completeOnFlag{&b.CompleteOnSubmit}, "deletion-complete-on", "when a deletion is done: verified, or submit (CleverTap accepted it)")
	fs.Var(locationFlag{&b.Location}, "timezone", "the CleverTap account's timezone (IANA name), for event dates")
	fs.Var(conflictFlag{&b.OnConflict}, "on-conflict",
		"when a profile found contradicts the row (email and user id lead to different people): review (end the request as conflict, act on nobody) or union (act on every profile, note it)")
	durationVar(fs, &b.ResweepAfter, "resweep-after",
		"look a deletion verified this long ago up once more; one found back is reported as reappeared (0 = off)")
	fs.BoolVar(&b.ExpectNoMatches, "expect-no-matches", b.ExpectNoMatches,
		"finish even when 20 or more subjects are looked up and none is found (otherwise the run stops, suspecting the wrong account)")
	durationVar(fs, &c.ProgressEvery, "progress-every", "interval of progress log lines when stderr is not a terminal")
	fs.StringVar(&c.MetricsFile, "metrics-file", c.MetricsFile,
		"at the end of every run, write its metrics to this file in the Prometheus text format (node_exporter's textfile collector)")
	durationVar(fs, &c.ReportWindow, "report-window", "closed requests stay in the reports this long after they closed (open ones always are)")
	durationVar(fs, &c.MaxDuration, "max-duration",
		"end the run cleanly after this long, reports written, so a nightly run never overlaps the next (0 = no limit)")
}

func cmdRun(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "run", runSynopsis)
	var (
		api    apiFlags
		lf     logFlags
		dryRun bool
	)
	cfg := defaultJobConfig()
	cfg.register(fs)
	api.register(fs)
	lf.register(fs, "info")
	fs.BoolVar(&dryRun, "dry-run", false, "read manifests and look subjects up only; delete nothing, write no ledger")
	if err := parseFlags(fs, "run", args); err != nil {
		return err
	}
	fs.Visit(func(f *flag.Flag) { cfg.ZoneGiven = cfg.ZoneGiven || f.Name == "timezone" })
	if err := cfg.Batch.Validate(); err != nil {
		return usageErrorf("run", "%w", err)
	}
	if cfg.MaxDuration < 0 {
		return usageErrorf("run", "--max-duration must not be negative")
	}
	log, err := lf.logger("run", env)
	if err != nil {
		return err
	}
	client, err := api.client("run", env, cfg.Batch.Location, log)
	if err != nil {
		return err
	}
	if dryRun {
		if len(cfg.Manifests) == 0 {
			return usageErrorf("run", "--dry-run needs at least one --manifest")
		}
		return dryRunManifests(ctx, env, client, cfg, log)
	}
	if cfg.State == "" || cfg.Out == "" {
		return usageErrorf("run", "--state and --out are required")
	}
	cfg.Args = redactArgs(args)
	return runJob(ctx, env, client, cfg, log)
}

// completeOnFlag binds --deletion-complete-on verified|submit to a bool.
type completeOnFlag struct{ submit *bool }

func (f completeOnFlag) String() string {
	if f.submit != nil && *f.submit {
		return "submit"
	}
	return "verified"
}

func (f completeOnFlag) Set(v string) error {
	switch v {
	case "verified":
		*f.submit = false
	case "submit":
		*f.submit = true
	default:
		return fmt.Errorf("%q: want verified or submit", v)
	}
	return nil
}

// conflictFlag binds --on-conflict review|union.
type conflictFlag struct{ p *batch.ConflictPolicy }

func (f conflictFlag) String() string {
	if f.p == nil {
		return string(batch.ConflictReview)
	}
	return string(*f.p)
}

func (f conflictFlag) Set(v string) error {
	switch p := batch.ConflictPolicy(v); p {
	case batch.ConflictReview, batch.ConflictUnion:
		*f.p = p
		return nil
	}
	return fmt.Errorf("%q: want review or union", v)
}

// locationFlag binds an IANA timezone name to a *time.Location.
type locationFlag struct{ loc **time.Location }

func (f locationFlag) String() string {
	if f.loc == nil || *f.loc == nil {
		return "UTC"
	}
	return (*f.loc).String()
}

func (f locationFlag) Set(v string) error {
	loc, err := time.LoadLocation(v)
	if err != nil {
		return err
	}
	*f.loc = loc
	return nil
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
