package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/batch/manifest"
	"github.com/ctdsr/ctdsr/clevertap"
)

// dryRunManifests reads the manifests, looks every subject up and prints
// matches and a projection. It writes no ledger and deletes nothing.
func dryRunManifests(ctx context.Context, env *Env, client *clevertap.Client, cfg jobConfig, log *slog.Logger) error {
	var reqs []batch.Request
	rejects := 0
	dedup := manifest.NewDeduper()
	for _, path := range cfg.Manifests {
		_, err := manifest.Read(ctx, path, manifest.Options{Sheet: cfg.Sheet, Dedup: dedup}, func(r manifest.Row) error {
			switch {
			case r.Reject != nil:
				rejects++
			case r.Duplicate == nil:
				reqs = append(reqs, *r.Request)
			}
			return nil
		})
		if errors.As(err, new(*manifest.FileError)) {
			return &UsageError{Err: err, Hint: "fix the file, or see 'ctdsr validate --help'"}
		}
		if err != nil {
			return err
		}
	}
	log.Info("dry run: looking subjects up", "requests", len(reqs), "rejects", rejects)
	res, err := batch.DryRun(ctx, client, reqs, cfg.Batch.Workers, client.PerGroup(), cfg.Batch.EventBatchSize)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REQUEST\tTYPE\tPROFILES\tOBJECT IDS\tEVENT NAMES\tEVENTS\tNOTE")
	failed := 0
	for _, m := range res.Matches {
		note := ""
		if m.Err != nil {
			note, failed = "lookup failed: "+m.Err.Error(), failed+1
		} else if m.Profiles == 0 {
			note = "not found"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\n", m.RequestID, m.Type, m.Profiles, m.ObjectIDs, m.EventNames, m.Events, note)
	}
	tw.Flush()
	fmt.Fprintf(env.Stdout, "\n%d request(s), %d reject(s). Projected API calls: profile %d, events %d, delete %d.\n",
		len(reqs), rejects, res.Calls["profile"], res.Calls["events"], res.Calls["delete"])
	fmt.Fprintf(env.Stdout, "Mean lookup latency %s; projected API time about %s at %d call(s) in flight per group.\n",
		res.MeanLatency.Round(time.Millisecond), res.Projected.Round(time.Second), client.PerGroup())
	if res.NoMatches() && !cfg.Batch.ExpectNoMatches {
		fmt.Fprintf(env.Stdout, "Warning: no subject of %d was found in CleverTap account %s: is this the right account and region? "+
			"A real run would stop here (--expect-no-matches lets it finish).\n", len(res.Matches), client.Account())
	}
	fmt.Fprintln(env.Stdout, "Dry run: nothing was deleted and no ledger was written.")
	if rejects > 0 || failed > 0 {
		return fmt.Errorf("dry run: %w", ErrRowsFailed)
	}
	return nil
}
