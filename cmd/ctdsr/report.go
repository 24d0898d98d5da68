package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/ctdsr/ctdsr/batch/report"
	"github.com/ctdsr/ctdsr/checkpoint"
)

const reportSynopsis = `--state LEDGER.db --out DIR [--all | --manifest-sha256 H | --request-id ID ...] [--since T]

Renders the reports of a ledger into DIR without calling CleverTap: every
open request and those closed within --report-window (what a run writes),
or --all, the requests of one manifest, or the named requests. --since T
(a date, an RFC 3339 time, or a duration back from now such as 7d) keeps
the open requests and those closed since T.`

func cmdReport(ctx context.Context, env *Env, args []string) error {
	flags := newFlagSet(env, "report", reportSynopsis)
	var (
		state, out, sha, since string
		ids                    multiFlag
		all                    bool
		window                 = defaultJobConfig().ReportWindow
		dueWithin              = checkpoint.DefaultDueWithin
	)
	flags.StringVar(&state, "state", "", "the SQLite ledger file")
	flags.StringVar(&out, "out", "", "directory for the reports")
	flags.BoolVar(&all, "all", false, "every request of the ledger")
	flags.StringVar(&sha, "manifest-sha256", "", "the requests of the manifest with this SHA-256 (see summary.json or 'ctdsr status')")
	flags.Var(&ids, "request-id", "a request to report (repeatable)")
	flags.StringVar(&since, "since", "", "keep open requests and those closed since T (date, RFC 3339 time, or a duration such as 7d)")
	durationVar(flags, &window, "report-window", "without a selection: closed requests this recent are in the reports")
	durationVar(flags, &dueWithin, "due-within", "what counts as due soon")
	if err := parseFlags(flags, "report", args); err != nil {
		return err
	}
	if out == "" {
		return usageErrorf("report", "--out is required")
	}
	now := time.Now()
	sel := report.Selection{All: all, ManifestSHA256: strings.ToLower(sha), RequestIDs: ids, Now: now}
	if !sel.Explicit() {
		sel.ClosedSince = now.Add(-window)
	}
	if since != "" {
		t, err := parseSince(since, now)
		if err != nil {
			return usageErrorf("report", "--since: %w", err)
		}
		sel.ClosedSince = t
	}
	if err := sel.Validate(); err != nil {
		return usageErrorf("report", "%w", err)
	}
	store, err := openExisting(ctx, state, "report")
	if err != nil {
		return err
	}
	defer store.Close()
	if err := checkOutputDir(out); err != nil {
		return err
	}
	zone, err := accountZone(ctx, store)
	if err != nil {
		return err
	}
	r, err := renderReports(ctx, store, out, sel, dueWithin, zone, []report.SummaryItem{
		{Label: "Report of the ledger", Value: state}, {Label: "Account timezone", Value: zone.String()}})
	if err != nil {
		return err
	}
	counts, err := store.Counts(ctx, dueWithin)
	if err != nil {
		return err
	}
	sum := reportSummary{Command: "report", ToolVersion: version, GeneratedAt: now.UTC(), Selection: selectionOf(sel),
		Reports: r.Totals, Ledger: ledgerSummaryOf(counts), OutputFiles: r.Files}
	if err := report.WriteJSON(filepath.Join(out, report.SummaryFile), sum); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%d request(s), %d profile(s), %d event(s), %d reject(s) written to %s\n",
		r.Totals.Requests, r.Totals.Profiles, r.Totals.Events, r.Totals.Rejects, out)
	return nil
}

// accountZone is the account time zone the ledger remembers, UTC if none.
func accountZone(ctx context.Context, store *checkpoint.Store) (*time.Location, error) {
	name, ok, err := store.Setting(ctx, checkpoint.SettingTimezone)
	if err != nil || !ok {
		return time.UTC, err
	}
	zone, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("the ledger's account time zone: %w", err)
	}
	return zone, nil
}

// reportSummary is summary.json of `ctdsr report`: what was selected and
// written; like a run's, it lists every file with its digest.
type reportSummary struct {
	Command     string              `json:"command"`
	ToolVersion string              `json:"tool_version"`
	GeneratedAt time.Time           `json:"generated_at"`
	Selection   selectionJSON       `json:"selection"`
	Reports     report.Totals       `json:"reports"`
	Ledger      ledgerSummary       `json:"ledger"`
	OutputFiles []report.FileDigest `json:"output_files"`
}

type selectionJSON struct {
	All            bool       `json:"all,omitempty"`
	ManifestSHA256 string     `json:"manifest_sha256,omitempty"`
	RequestIDs     int        `json:"request_ids,omitempty"` // how many; the ids are in the files
	ClosedSince    *time.Time `json:"closed_since,omitempty"`
}

func selectionOf(sel report.Selection) selectionJSON {
	s := selectionJSON{All: sel.All, ManifestSHA256: sel.ManifestSHA256, RequestIDs: len(sel.RequestIDs)}
	if !sel.ClosedSince.IsZero() {
		t := sel.ClosedSince.UTC()
		s.ClosedSince = &t
	}
	return s
}

// parseSince reads a point in time: YYYY-MM-DD (UTC midnight), an RFC 3339
// time, or a duration back from now ("7d", "36h").
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	d, err := parseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("%q is not a date (2026-01-31), an RFC 3339 time or a duration such as 7d", s)
	}
	return now.Add(-d), nil
}
