package main

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"slices"
	"strings"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/checkpoint"
)

const reopenSynopsis = `--state LEDGER.db --status failed|not_found [--since T] [--request-id ID ...]

Reopens closed requests so the next run does them again: those an older
build or a wrong configuration closed (a wrong base URL closing every
deletion as not_found), or that failed for a cause now fixed. It records
who reopened them and when in the ledger and in each request's history,
and calls no API.`

func cmdReopen(ctx context.Context, env *Env, args []string) error {
	flags := newFlagSet(env, "reopen", reopenSynopsis)
	var (
		state, since string
		statuses     multiFlag
		ids          multiFlag
	)
	allowed := batch.Reopenable()
	var names []string
	for _, st := range allowed {
		names = append(names, string(st))
	}
	flags.StringVar(&state, "state", "", "the SQLite ledger file")
	flags.Var(&statuses, "status", "reopen requests in this status: "+strings.Join(names, " or ")+" (repeatable)")
	flags.StringVar(&since, "since", "", "only those closed since T (date, RFC 3339 time, or a duration such as 7d)")
	flags.Var(&ids, "request-id", "only these requests (repeatable)")
	if err := parseFlags(flags, "reopen", args); err != nil {
		return err
	}
	f := checkpoint.ReopenFilter{RequestIDs: ids}
	if len(statuses) == 0 {
		return usageErrorf("reopen", "--status is required: %s", strings.Join(names, " or "))
	}
	for _, s := range statuses {
		if !slices.Contains(allowed, batch.Status(s)) {
			return usageErrorf("reopen", "--status %q: want %s", s, strings.Join(names, " or "))
		}
		f.Statuses = append(f.Statuses, batch.Status(s))
	}
	if since != "" {
		t, err := parseSince(since, time.Now())
		if err != nil {
			return usageErrorf("reopen", "--since: %w", err)
		}
		f.Since = t
	}
	store, err := openExisting(ctx, state, "reopen")
	if err != nil {
		return err
	}
	defer store.Close()
	runID, err := store.BeginRun(ctx, checkpoint.RunInfo{Args: append([]string{"reopen"}, args...), ToolVersion: version})
	if err != nil {
		return err
	}
	n, rerr := store.Reopen(ctx, runID, f, actor())
	outcome := string(OutcomeOK)
	if rerr != nil {
		outcome = string(OutcomeFatal)
	}
	if err := store.EndRun(context.WithoutCancel(ctx), runID, outcome); err != nil && rerr == nil {
		rerr = err
	}
	if rerr != nil {
		return rerr
	}
	fmt.Fprintf(env.Stdout, "reopened %d request(s); the next 'ctdsr run' on %s does them again\n", n, state)
	return nil
}

// actor names who runs a command, for the ledger: user@host.
func actor() string {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	host, err := os.Hostname()
	if err != nil {
		host = "unknown-host"
	}
	return name + "@" + host
}
