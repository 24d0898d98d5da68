package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ctdsr/ctdsr/checkpoint"
)

const statusSynopsis = `--state LEDGER.db [--json] [--due-within 7d] [--list open|overdue|due-soon|late|conflict]

Summarises a ledger without calling CleverTap: counts by type and status,
open requests, the oldest open one, what is due soon, overdue or late.
With --list it prints one line per request of that list instead (request
id, type, status, due date, days open), the most urgent first.`

func cmdStatus(ctx context.Context, env *Env, args []string) error {
	flags := newFlagSet(env, "status", statusSynopsis)
	var (
		state     string
		asJSON    bool
		list      string
		dueWithin time.Duration
	)
	flags.StringVar(&state, "state", "", "the SQLite ledger file")
	flags.BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	flags.StringVar(&list, "list", "", "print the requests of one list: "+strings.Join(checkpoint.ListNames, ", "))
	dueWithin = checkpoint.DefaultDueWithin
	durationVar(flags, &dueWithin, "due-within", "what counts as due soon")
	if err := parseFlags(flags, "status", args); err != nil {
		return err
	}
	if list != "" && !slices.Contains(checkpoint.ListNames, list) {
		return usageErrorf("status", "--list %q: want one of %s", list, strings.Join(checkpoint.ListNames, ", "))
	}
	store, err := openExisting(ctx, state, "status")
	if err != nil {
		return err
	}
	defer store.Close()
	if list != "" {
		return writeList(ctx, env.Stdout, store, list, dueWithin, asJSON)
	}
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

// listedJSON is one request of `ctdsr status --list ... --json`.
type listedJSON struct {
	RequestID   string     `json:"request_id"`
	Type        string     `json:"request_type"`
	Status      string     `json:"status"`
	DueAt       *time.Time `json:"due_at,omitempty"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
	DaysOpen    int        `json:"days_open"`
}

// writeList prints one line (or JSON object) per request of a list.
func writeList(ctx context.Context, w io.Writer, store *checkpoint.Store, list string, dueWithin time.Duration, asJSON bool) error {
	var items []listedJSON
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if !asJSON {
		fmt.Fprintln(tw, "REQUEST\tTYPE\tSTATUS\tDUE\tDAYS OPEN")
	}
	n := 0
	err := store.ListRequests(ctx, list, time.Now(), dueWithin, func(r checkpoint.ListedRequest) error {
		n++
		if asJSON {
			it := listedJSON{RequestID: r.ID, Type: string(r.Type), Status: r.Status.Report(), DaysOpen: r.DaysOpen}
			if !r.DueAt.IsZero() {
				it.DueAt = &r.DueAt
			}
			if !r.CompletedAt.IsZero() {
				it.CompletedAt = &r.CompletedAt
			}
			items = append(items, it)
			return nil
		}
		due := "-"
		if !r.DueAt.IsZero() {
			due = r.DueAt.Format(time.DateOnly)
		}
		_, err := fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", r.ID, r.Type, r.Status.Report(), due, r.DaysOpen)
		return err
	})
	if err != nil {
		return err
	}
	if asJSON {
		if items == nil {
			items = []listedJSON{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(items)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%d %s request(s)\n", n, list)
	return err
}
