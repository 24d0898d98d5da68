package batch

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ctdsr/ctdsr/clevertap"
)

// Config says how a run carries out its requests. Every default lives in
// DefaultConfig; command-line flags bind straight to these fields, and
// Validate only checks them: zero means zero everywhere.
type Config struct {
	// Workers bounds the requests worked on at once. The client's quota,
	// not this number, bounds calls in flight; workers only need to be
	// enough to keep every API group busy.
	Workers int
	// Location is the account's timezone, used for event date ranges.
	Location *time.Location
	// VerifyWindow is how long the run keeps polling pending deletion
	// verifications after the rest of its work is done; 0 leaves them to
	// the next run at once.
	VerifyWindow time.Duration
	// VerifyDeadline is how long after the delete a still-present profile
	// fails the request.
	VerifyDeadline time.Duration
	// VerifyFirst is the wait before the first verification; each further
	// check waits twice as long, up to VerifyMax.
	VerifyFirst, VerifyMax time.Duration
	// CompleteOnSubmit counts a deletion as done when CleverTap accepts it.
	CompleteOnSubmit bool
	// MaxAttempts is how many failed attempts, across runs, a request may
	// have before it is failed for good.
	MaxAttempts int
	// DeleteBatchWait is how long ids may wait for a delete batch to fill
	// up to 100 before it is sent anyway; 0 sends at once.
	DeleteBatchWait time.Duration
	// EmailLookbackDays widens email-filtered exports this many days
	// before the subject's first event (and up to today), to find profiles
	// sharing the subject's email that the lookup did not return. It costs
	// no extra calls, only work on CleverTap's side; 0 means no look-back.
	EmailLookbackDays int
	// EventBatchSize is the export page size, 1 to 5000.
	EventBatchSize int
	// OnConflict is what a profile contradicting the request's row does:
	// ConflictReview ends the request as StatusConflict, ConflictUnion
	// carries on with every profile and notes the contradiction.
	OnConflict ConflictPolicy
	// ResweepAfter: a deletion verified at least this long ago is looked
	// up once more (a user deleted who comes back is reported as
	// reappeared); 0 turns the second sweep off.
	ResweepAfter time.Duration
	// ExpectNoMatches lets a run finish that looks many subjects up and
	// finds none; otherwise it stops, suspecting the wrong account.
	ExpectNoMatches bool
}

// DefaultConfig returns the settings a run uses unless told otherwise.
func DefaultConfig() Config {
	return Config{
		Workers:  16,
		Location: time.UTC,
		// CleverTap carries a delete out within 24-48 hours, in a nightly
		// batch: a search minutes after the delete cannot succeed. So a
		// run does not wait for verifications; the next runs (cron) search
		// again 12 hours after the delete, then daily, and fail a profile
		// still there after 72 hours.
		VerifyWindow:      0,
		VerifyDeadline:    72 * time.Hour,
		VerifyFirst:       12 * time.Hour,
		VerifyMax:         24 * time.Hour,
		MaxAttempts:       5,
		DeleteBatchWait:   5 * time.Second,
		EmailLookbackDays: 365,
		EventBatchSize:    clevertap.MaxBatchSize,
		OnConflict:        ConflictReview,
		ResweepAfter:      30 * 24 * time.Hour,
	}
}

// Validate reports the first setting that cannot work. It changes nothing.
func (c Config) Validate() error {
	switch {
	case c.Workers < 1:
		return fmt.Errorf("workers %d: must be at least 1", c.Workers)
	case c.Location == nil:
		return errors.New("no account timezone (Location)")
	case c.VerifyWindow < 0:
		return fmt.Errorf("verify window %v is negative", c.VerifyWindow)
	case c.VerifyDeadline <= 0:
		return fmt.Errorf("verify deadline %v must be positive", c.VerifyDeadline)
	case c.VerifyFirst <= 0:
		return fmt.Errorf("first verification wait %v must be positive", c.VerifyFirst)
	case c.VerifyMax < c.VerifyFirst:
		return fmt.Errorf("longest verification wait %v is below the first %v", c.VerifyMax, c.VerifyFirst)
	case c.MaxAttempts < 1:
		return fmt.Errorf("max attempts %d: must be at least 1", c.MaxAttempts)
	case c.DeleteBatchWait < 0:
		return fmt.Errorf("delete batch wait %v is negative", c.DeleteBatchWait)
	case c.EmailLookbackDays < 0:
		return fmt.Errorf("email look-back %d days is negative", c.EmailLookbackDays)
	case c.EventBatchSize < 1 || c.EventBatchSize > clevertap.MaxBatchSize:
		return fmt.Errorf("event batch size %d is outside 1..%d", c.EventBatchSize, clevertap.MaxBatchSize)
	case c.ResweepAfter < 0:
		return fmt.Errorf("resweep after %v is negative", c.ResweepAfter)
	case !c.OnConflict.valid():
		return fmt.Errorf("on conflict %q: want %s or %s", c.OnConflict, ConflictReview, ConflictUnion)
	}
	return nil
}

// Deps are what a run works with rather than settings: the ledger, the
// CleverTap API, the clock, the logger and the progress counters.
type Deps struct {
	RunID string
	Store Store
	API   CleverTap
	// Account names the CleverTap account in messages (its id, region).
	Account string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives the run's log lines; nil discards them.
	Logger *slog.Logger
	// Progress is updated as requests finish; nil means a private one.
	Progress *Progress
}

func (d Deps) withDefaults() (Deps, error) {
	if d.Store == nil || d.API == nil {
		return d, errors.New("batch: a run needs a Store and an API")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Progress == nil {
		d.Progress = &Progress{}
	}
	return d, nil
}
