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

// dryRunManifests reads the manifests (listing the rejects as validate
// does), looks every subject up, prints the matches and projects the API
// calls and time of a real run. It writes no ledger and deletes nothing.
func dryRunManifests(ctx context.Context, env *Env, client *clevertap.Client, cfg jobConfig, log *slog.Logger) error {
	var reqs []batch.Request
	v := &validation{opts: manifest.Options{Sheet: cfg.Sheet, Dedup: manifest.NewDeduper()}}
	for _, path := range cfg.Manifests {
		info, err := manifest.Read(ctx, path, v.opts, func(r manifest.Row) error {
			switch {
			case r.Reject != nil:
				return v.reject(*r.Reject)
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
		v.add(info)
	}
	v.print(env.Stdout)
	fmt.Fprintln(env.Stdout)
	log.Info("dry run: looking subjects up", "requests", len(reqs), "rejects", v.rejected)
	res, err := batch.DryRun(ctx, client, reqs, cfg.Batch)
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

	// CleverTap's own time per call, measured on the dry run's lookups
	// (queueing for a slot in the client excluded); exports and deletes
	// are assumed to take as long, which a dry run cannot measure.
	lat := client.Stats().Latency(clevertap.GroupProfile)
	latency := map[string]time.Duration{batch.GroupProfile: lat, batch.GroupEvents: lat, batch.GroupDelete: lat}
	k := client.PerGroup()
	fmt.Fprintf(env.Stdout, "\n%d request(s), %d reject(s). Projected API calls: profile %d, events %d, delete %d.\n",
		len(reqs), v.rejected, res.Calls[batch.GroupProfile], res.Calls[batch.GroupEvents], res.Calls[batch.GroupDelete])
	fmt.Fprintf(env.Stdout, "CleverTap answered a lookup in %s on average; at %d call(s) in flight per group the run would take about %s of API time.\n",
		lat.Round(time.Millisecond), k, formatDuration(res.Projection(k, latency).Round(time.Second)))
	if res.Scans > 0 {
		fmt.Fprintf(env.Stdout, "%d subject(s) have no email: their events need shared unfiltered scans, whose size depends on the whole account and is not in the projection.\n", res.Scans)
	}
	if res.NoMatches() && !cfg.Batch.ExpectNoMatches {
		fmt.Fprintf(env.Stdout, "Warning: no subject of %d was found in CleverTap account %s: is this the right account and region? "+
			"A real run would stop here (--expect-no-matches lets it finish).\n", len(res.Matches), client.Account())
	}
	fmt.Fprintln(env.Stdout, "Dry run: nothing was deleted and no ledger was written.")
	if v.rejected > 0 || failed > 0 {
		return fmt.Errorf("dry run: %w", ErrRowsFailed)
	}
	return nil
}
