package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/ctdsr/ctdsr/checkpoint"
)

const purgeSynopsis = `--state LEDGER.db --closed-before T

Removes the personal data of the requests closed before T (a date, an RFC
3339 time, or a duration back from now such as 365d) from the ledger: their
emails and user ids, the profiles and events exported, the identities a
deletion sent. It keeps the request id, type, status, dates, detail,
objectIds, each request's history, and the SHA-256 of the email and user id
as evidence, then compacts the file. Reports show purged requests with the
evidence only. Reports already written elsewhere are not touched.`

func cmdPurge(ctx context.Context, env *Env, args []string) error {
	flags := newFlagSet(env, "purge", purgeSynopsis)
	var state, before string
	flags.StringVar(&state, "state", "", "the SQLite ledger file")
	flags.StringVar(&before, "closed-before", "", "purge requests closed before T (date, RFC 3339 time, or a duration such as 365d)")
	if err := parseFlags(flags, "purge", args); err != nil {
		return err
	}
	if before == "" {
		return usageErrorf("purge", "--closed-before is required")
	}
	cutoff, err := parseSince(before, time.Now())
	if err != nil {
		return usageErrorf("purge", "--closed-before: %w", err)
	}
	store, err := openExisting(ctx, state, "purge")
	if err != nil {
		return err
	}
	defer store.Close()
	sizeBefore := ledgerSize(state)
	runID, err := store.BeginRun(ctx, checkpoint.RunInfo{Args: append([]string{"purge"}, args...), ToolVersion: version})
	if err != nil {
		return err
	}
	n, perr := store.Purge(ctx, runID, cutoff)
	if perr == nil {
		perr = store.Vacuum(ctx, runID)
	}
	outcome := OutcomeOK
	if perr != nil {
		outcome = OutcomeFatal
	}
	if err := store.EndRun(context.WithoutCancel(ctx), runID, string(outcome)); err != nil && perr == nil {
		perr = err
	}
	if perr != nil {
		return perr
	}
	fmt.Fprintf(env.Stdout, "purged the personal data of %d request(s) closed before %s; ledger %s: %d → %d bytes\n",
		n, cutoff.UTC().Format(time.RFC3339), state, sizeBefore, ledgerSize(state))
	return nil
}

// ledgerSize is the size of the ledger file and its write-ahead log.
func ledgerSize(path string) int64 {
	var n int64
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}
