package main

import (
	"time"

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
	Reports     report.Totals           `json:"reports"`
	API         apiSummary              `json:"api"`
	OutputFiles []string                `json:"output_files"`
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
