package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ctdsr/ctdsr/batch/manifest"
	"github.com/ctdsr/ctdsr/checkpoint"
)

const loadSynopsis = `--manifest F [--manifest F2 ...] --state LEDGER.db [--sheet S]

Validates manifests and loads their requests into the ledger without
calling CleverTap: stage tonight's spreadsheets now, and a later 'ctdsr run'
without --manifest carries them out. Rejects are kept in the ledger and
reported by the next run; exit codes as for 'ctdsr run' (3 when rows were
rejected, 2 when a manifest cannot be read).`

func cmdLoad(ctx context.Context, env *Env, args []string) error {
	flags := newFlagSet(env, "load", loadSynopsis)
	var (
		manifests multiFlag
		state     string
		sheet     string
		lf        logFlags
	)
	flags.Var(&manifests, "manifest", "manifest file (CSV, Parquet or .xlsx); repeatable")
	flags.StringVar(&state, "state", "", "the SQLite ledger file (created if missing)")
	flags.StringVar(&sheet, "sheet", "", "workbook sheet to read (default: the first)")
	lf.register(flags, "info")
	if err := parseFlags(flags, "load", args); err != nil {
		return err
	}
	if len(manifests) == 0 || state == "" {
		return usageErrorf("load", "--manifest and --state are required")
	}
	log, err := lf.logger("load", env)
	if err != nil {
		return err
	}
	opts := manifest.Options{Sheet: sheet, Location: time.UTC}
	if err := manifestsReadable(ctx, manifests, opts); err != nil {
		return err
	}
	store, err := checkpoint.Open(ctx, state, checkpoint.Options{Logger: log.WithGroup("ledger")})
	if err != nil {
		return err
	}
	defer store.Close()
	runID, err := store.BeginRun(ctx, checkpoint.RunInfo{Args: append([]string{"load"}, redactArgs(args)...), ToolVersion: version})
	if err != nil {
		return err
	}
	start := time.Now()
	ing, ierr := ingest(ctx, store, runID, manifests, opts, log.With("run_id", runID))
	outcome := OutcomeOK
	switch {
	case ierr != nil && isUsage(ierr):
		outcome = OutcomeUnreadableInput
	case ierr != nil:
		outcome = OutcomeFatal
	case ing.Counts.Rejected+ing.Counts.Conflicts > 0:
		outcome = OutcomeRowsFailed
	}
	if err := store.EndRun(context.WithoutCancel(ctx), runID, string(outcome)); err != nil && ierr == nil {
		ierr = err
	}
	if ierr != nil {
		return ierr
	}
	c := ing.Counts
	fmt.Fprintf(env.Stdout, "loaded %d manifest(s) into %s in %s: %d new request(s), %d unchanged, %d duplicate(s) merged, %d rejected, %d conflict(s)\n",
		len(ing.Manifests), state, time.Since(start).Round(100*time.Millisecond), c.Added, c.Unchanged, c.Merged, c.Rejected, c.Conflicts)
	if outcome == OutcomeRowsFailed {
		return fmt.Errorf("run %s: %w (the next 'ctdsr run' lists them in rejects.parquet; 'ctdsr validate --manifest F' shows them now)",
			runID, ErrRowsFailed)
	}
	return nil
}

func isUsage(err error) bool { return errors.As(err, new(*UsageError)) }
