package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/ctdsr/ctdsr/checkpoint"
)

const statusSynopsis = `--state LEDGER.db [--json] [--due-within 168h]

Summarises a ledger without calling CleverTap: counts by type and status,
open requests, the oldest open one, and what is due soon or overdue.`

func cmdStatus(ctx context.Context, env *Env, args []string) error {
	flags := newFlagSet(env, "status", statusSynopsis)
	var (
		state     string
		asJSON    bool
		dueWithin time.Duration
	)
	flags.StringVar(&state, "state", "", "the SQLite ledger file")
	flags.BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	dueWithin = checkpoint.DefaultDueWithin
	durationVar(flags, &dueWithin, "due-within", "what counts as due soon")
	if err := parseFlags(flags, "status", args); err != nil {
		return err
	}
	store, err := openExisting(ctx, state, "status")
	if err != nil {
		return err
	}
	defer store.Close()
	c, err := store.Counts(ctx, dueWithin)
	if err != nil {
		return err
	}
	if asJSON {
		return writeStatusJSON(env.Stdout, c)
	}
	writeStatusTable(env.Stdout, state, c, dueWithin)
	return nil
}

// statusJSON is the stable JSON shape of `ctdsr status --json`.
type statusJSON struct {
	Requests     int                       `json:"requests"`
	ByStatus     map[string]map[string]int `json:"by_status"`
	Open         int                       `json:"open"`
	Overdue      int                       `json:"overdue"`
	DueSoon      int                       `json:"due_soon"`
	Late         int                       `json:"late"`
	OldestOpenID string                    `json:"oldest_open_request_id,omitempty"`
	OldestOpenAt *time.Time                `json:"oldest_open_at,omitempty"`
	Manifests    int                       `json:"manifests"`
	Rejects      int                       `json:"rejects"`
	Runs         int                       `json:"runs"`
	LastRun      *lastRunJSON              `json:"last_run,omitempty"`
	Locked       bool                      `json:"locked"`
}

// lastRunJSON is the last run in `ctdsr status --json`, in the same
// snake_case as the rest; ended_at and outcome are absent while it runs
// (or when it was killed).
type lastRunJSON struct {
	RunID       string     `json:"run_id"`
	StartedAt   time.Time  `json:"started_at"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
	ToolVersion string     `json:"tool_version"`
	Outcome     string     `json:"outcome,omitempty"`
}

func writeStatusJSON(w io.Writer, c checkpoint.Counts) error {
	s := statusJSON{Requests: c.Requests, ByStatus: map[string]map[string]int{}, Open: c.Open, Overdue: c.Overdue,
		DueSoon: c.DueSoon, Late: c.Late, OldestOpenID: c.OldestOpenID, Manifests: c.Manifests, Rejects: c.Rejects,
		Runs: c.Runs, Locked: c.Lock != nil}
	if r := c.LastRun; r != nil {
		s.LastRun = &lastRunJSON{RunID: r.RunID, StartedAt: r.StartedAt, ToolVersion: r.ToolVersion, Outcome: r.Outcome}
		if !r.EndedAt.IsZero() {
			s.LastRun.EndedAt = &r.EndedAt
		}
	}
	s.ByStatus = statusMap(c.ByStatus)
	if !c.OldestOpenAt.IsZero() {
		s.OldestOpenAt = &c.OldestOpenAt
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

func writeStatusTable(w io.Writer, path string, c checkpoint.Counts, dueWithin time.Duration) {
	fmt.Fprintf(w, "ledger %s: %d request(s) from %d manifest(s), %d reject(s), %d run(s)\n",
		path, c.Requests, c.Manifests, c.Rejects, c.Runs)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  TYPE\tSTATUS\tCOUNT")
	for _, sc := range byReportName(c.ByStatus) {
		fmt.Fprintf(tw, "  %s\t%s\t%d\n", sc.typ, sc.status, sc.n)
	}
	tw.Flush()
	fmt.Fprintf(w, "open %d; overdue %d; due within %s %d; late %d\n", c.Open, c.Overdue, formatDuration(dueWithin), c.DueSoon, c.Late)
	if c.OldestOpenID != "" {
		fmt.Fprintf(w, "oldest open: %s (since %s)\n", c.OldestOpenID, c.OldestOpenAt.Format(time.RFC3339))
	}
	if c.LastRun != nil {
		outcome := c.LastRun.Outcome
		if outcome == "" {
			outcome = "running or killed"
		}
		fmt.Fprintf(w, "last run: %s started %s, %s\n", c.LastRun.RunID, c.LastRun.StartedAt.Format(time.RFC3339), outcome)
	}
	if c.Lock != nil {
		l := c.Lock
		fmt.Fprintf(w, "locked by run %s (pid %d on %s), started %s, last heartbeat %s\n",
			l.RunID, l.PID, l.Host, l.StartedAt.Format(time.RFC3339), l.HeartbeatAt.Format(time.RFC3339))
	}
}

// reportCount is a number of requests of one type under one report name.
type reportCount struct {
	typ, status string
	n           int
}

// byReportName sums the ledger's counts by the names reports use (two
// ledger statuses may share one, as both accepted deletes are
// "submitted"), in the ledger's order (by type, then ledger status).
func byReportName(counts []checkpoint.StatusCount) []reportCount {
	var out []reportCount
	for _, sc := range counts {
		typ, name := string(sc.Type), sc.Status.Report()
		i := slices.IndexFunc(out, func(r reportCount) bool { return r.typ == typ && r.status == name })
		if i < 0 {
			out = append(out, reportCount{typ, name, 0})
			i = len(out) - 1
		}
		out[i].n += sc.N
	}
	return out
}
