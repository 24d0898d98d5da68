package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Outcome is how a run ended, as the ledger's runs table and summary.json
// record it.
type Outcome string

// The outcomes of a run.
const (
	OutcomeOK              Outcome = "ok"               // every request reached a good status or is waiting as it should
	OutcomeRowsFailed      Outcome = "rows_failed"      // finished, but rows were rejected, failed or need a person
	OutcomeInterrupted     Outcome = "interrupted"      // stopped by SIGINT/SIGTERM; state saved
	OutcomeOutOfTime       Outcome = "out_of_time"      // reached --max-duration (or a wait would pass it); state saved
	OutcomeUnreadableInput Outcome = "unreadable_input" // a manifest could not be read; nothing was worked on
	OutcomeFatal           Outcome = "fatal"            // the run could not go on
)

// err is the error a finished run returns for its outcome: nil when it
// went well, ErrRowsFailed or ErrInterrupted wrapped with where to look,
// and cause (the run's own error) otherwise.
func (o Outcome) err(runID, out string, lookAt []string, cause error) error {
	switch o {
	case OutcomeOK:
		return nil
	case OutcomeRowsFailed:
		where := make([]string, len(lookAt))
		for i, f := range lookAt {
			where[i] = filepath.Join(out, f)
		}
		return fmt.Errorf("run %s: %w (see %s)", runID, ErrRowsFailed, strings.Join(where, " and "))
	case OutcomeInterrupted:
		return fmt.Errorf("run %s: %w", runID, ErrInterrupted)
	case OutcomeOutOfTime:
		return fmt.Errorf("run %s: %w", runID, ErrWorkRemains)
	}
	return cause
}

// ErrWorkRemains is returned when a run stopped at --max-duration with
// requests still open; it maps to exit code 3: the next run continues.
var ErrWorkRemains = errors.New("stopped at --max-duration with work left; the next run continues (see summary.json)")
