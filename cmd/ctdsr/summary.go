package main

import (
	"time"

	"github.com/ctdsr/ctdsr/batch"

	"github.com/ctdsr/ctdsr/batch/report"
	"github.com/ctdsr/ctdsr/checkpoint"
	"github.com/ctdsr/ctdsr/clevertap"
)

// runSummary is summary.json: what one run did, for people and for
// monitoring. It holds no personal data.
type runSummary struct {
	RunID       string                  `json:"run_id"`
	ToolVersion string                  `json:"tool_version"`
	StartedAt   time.Time               `json:"started_at"`
	EndedAt     time.Time               `json:"ended_at"`
	Outcome     Outcome                 `json:"outcome"`
	Error       string                  `json:"error,omitempty"`
	Manifests   []manifestSummary       `json:"manifests"`
	Import      checkpoint.ImportResult `json:"import"`
	// Reports counts what the report files hold: the ledger's view (open
	// requests, those closed within the report window, and what this run
	// touched).
	Reports report.Totals `json:"reports"`
	// ReportWindow is how far back closed requests are in the reports.
	ReportWindow string `json:"report_window"`
	// Ledger counts the whole ledger at the end of the run.
	Ledger ledgerSummary `json:"ledger"`
	// Run says what this run did.
	Run runDid     `json:"run"`
	API apiSummary `json:"api"`
	// Zone is the account timezone in use and what this run's exports
	// showed of it (moments checked and agreeing).
	Zone batch.ZoneEvidence `json:"timezone"`
	// UnexportableEvents are the event names CleverTap refused to export
	// this run, with its reason; the requests' details name them too.
	UnexportableEvents map[string]string `json:"unexportable_events,omitempty"`
	// OutputFiles lists every file written with its size and SHA-256
	// (summary.json itself aside): `ctdsr verify-reports` checks them.
	OutputFiles []report.FileDigest `json:"output_files"`
	// PreviousRunID and PreviousSummarySHA256 name the summary of the run
	// before this one on the same ledger: the summaries form a chain.
	PreviousRunID         string `json:"previous_run_id,omitempty"`
	PreviousSummarySHA256 string `json:"previous_summary_sha256,omitempty"`
}

// ledgerSummary is the whole ledger's state, by the names reports use.
type ledgerSummary struct {
	Requests int                       `json:"requests"`
	ByStatus map[string]map[string]int `json:"by_status"`
	Open     int                       `json:"open"`
	DueSoon  int                       `json:"due_soon"`
	Overdue  int                       `json:"overdue"`
	Late     int                       `json:"late"`
	Rejects  int                       `json:"rejects"`
}

func ledgerSummaryOf(c checkpoint.Counts) ledgerSummary {
	return ledgerSummary{Requests: c.Requests, ByStatus: statusMap(c.ByStatus), Open: c.Open, DueSoon: c.DueSoon,
		Overdue: c.Overdue, Late: c.Late, Rejects: c.Rejects}
}

// runDid is what one run did: the requests it touched (changed, or read
// in its manifests) by status, those it finished, and failed attempts.
type runDid struct {
	Touched        map[string]map[string]int `json:"touched_by_status"`
	Finished       int64                     `json:"finished"`
	FailedAttempts int64                     `json:"failed_attempts"`
	Rejects        int                       `json:"rejects"`
	WorkSeconds    float64                   `json:"work_seconds"` // time spent carrying requests out (ledger and reports aside)
	Reswept        int64                     `json:"reswept"`      // verified deletions looked up a second time
	Reappeared     int64                     `json:"reappeared"`   // of them, found back
}

// statusMap is counts by type, then by the names reports use.
func statusMap(counts []checkpoint.StatusCount) map[string]map[string]int {
	m := map[string]map[string]int{}
	for _, sc := range byReportName(counts) {
		if m[sc.typ] == nil {
			m[sc.typ] = map[string]int{}
		}
		m[sc.typ][sc.status] = sc.n
	}
	return m
}

type apiSummary struct {
	PerGroupLimit int                       `json:"per_group_limit"`
	Calls         map[clevertap.Group]int64 `json:"calls"`
	Attempts      map[clevertap.Group]int64 `json:"attempts"`
	Retries       map[clevertap.Group]int64 `json:"retries"`
	RateLimited   map[clevertap.Group]int64 `json:"rate_limited_429"`
	MaxInFlight   map[clevertap.Group]int   `json:"max_in_flight"`
}

func apiSummaryOf(s clevertap.Stats, k int) apiSummary {
	return apiSummary{PerGroupLimit: k, Calls: s.Calls, Attempts: s.Attempts, Retries: s.Retries,
		RateLimited: s.RateLimited, MaxInFlight: s.MaxInFlight}
}

func totalCalls(s clevertap.Stats) int64 {
	var n int64
	for _, c := range s.Calls {
		n += c
	}
	return n
}
