package batch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ctdsr/ctdsr/clevertap"
	"golang.org/x/sync/errgroup"
)

// Config says how a run carries out its requests.
type Config struct {
	RunID string
	Store Store
	API   CleverTap

	// Workers bounds the requests worked on at once. The client's quota, not
	// this number, bounds calls in flight; workers only need to be enough to
	// keep every API group busy. Default 16.
	Workers int
	// Location is the account's timezone, used for event date ranges.
	Location *time.Location
	// VerifyWindow is how long the run keeps polling pending deletion
	// verifications after the rest of its work is done. Zero means no
	// polling then: what is still pending is left to the next run. (The
	// command's --verify-window defaults to 2m.)
	VerifyWindow time.Duration
	// VerifyDeadline is how long after the delete a still-present profile
	// fails the request. Default 72h.
	VerifyDeadline time.Duration
	// VerifyFirst is the wait before the first verification; each further
	// check waits twice as long, up to VerifyMax. Defaults 15s and 6h.
	VerifyFirst, VerifyMax time.Duration
	// CompleteOnSubmit counts a deletion as done when CleverTap accepts it.
	CompleteOnSubmit bool
	// MaxAttempts is how many failed attempts, across runs, a request may
	// have before it is failed for good. Default 5.
	MaxAttempts int
	// DeleteBatchWait is how long ids may wait for a delete batch to fill
	// up to 100 before it is sent anyway. Default 5s.
	DeleteBatchWait time.Duration
	// EmailLookbackDays widens email-filtered exports this many days
	// before the subject's first event (and up to today), to find profiles
	// sharing the subject's email that the lookup did not return. It costs
	// no extra calls, only work on CleverTap's side. Default 365; negative
	// means none.
	EmailLookbackDays int
	// EventBatchSize is the export page size. Default 5000.
	EventBatchSize int

	Now      func() time.Time
	Logger   *slog.Logger
	Progress *Progress
}

func (c *Config) setDefaults() error {
	if c.Store == nil || c.API == nil {
		return errors.New("batch: config needs a Store and an API")
	}
	if c.Workers <= 0 {
		c.Workers = 16
	}
	if c.Location == nil {
		c.Location = time.UTC
	}
	if c.VerifyWindow < 0 {
		return errors.New("batch: negative verify window")
	}
	if c.VerifyDeadline <= 0 {
		c.VerifyDeadline = 72 * time.Hour
	}
	if c.VerifyFirst <= 0 {
		c.VerifyFirst = 15 * time.Second
	}
	if c.VerifyMax <= 0 {
		c.VerifyMax = 6 * time.Hour
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.DeleteBatchWait <= 0 {
		c.DeleteBatchWait = 5 * time.Second
	}
	switch {
	case c.EmailLookbackDays == 0:
		c.EmailLookbackDays = 365
	case c.EmailLookbackDays < 0:
		c.EmailLookbackDays = 0
	}
	if c.EventBatchSize <= 0 {
		c.EventBatchSize = clevertap.MaxBatchSize
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Progress == nil {
		c.Progress = &Progress{}
	}
	return nil
}

// Progress counts a run's requests as they finish; safe for concurrent use.
type Progress struct {
	Total    atomic.Int64 // open requests at the start of the run
	Finished atomic.Int64 // requests that reached a status this run
	Failed   atomic.Int64 // attempts that failed this run
	Pending  atomic.Int64 // deletions waiting for verification
}

// Runner carries out one run.
type Runner struct {
	cfg Config
	log *slog.Logger

	// filter is what the run learnt of CleverTap's profile filter: once it
	// is refused or ignored, subjects wait for shared scans.
	filter *filterState
	mu     sync.Mutex
	parked map[string][]*parkedNeed // event name → subjects waiting for a shared scan

	// transportFailures counts network-level failures, to stop a run that
	// cannot reach CleverTap at all instead of failing every row.
	transportFailures atomic.Int64

	deleter  *deleter
	verifier *verifier
}

// NewRunner validates cfg and returns a Runner.
func NewRunner(cfg Config) (*Runner, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	cfg.Store = detachedStore{cfg.Store}
	r := &Runner{cfg: cfg, log: cfg.Logger, filter: newFilterState(), parked: map[string][]*parkedNeed{}}
	return r, nil
}

// Run carries out every open request in the ledger. It returns nil when the
// run finished (rows may still have failed: the ledger says which), an
// error wrapping ErrFatal when it had to stop, or the context's error when
// it was interrupted. State already committed stays committed either way.
func (r *Runner) Run(ctx context.Context) error {
	work, err := r.cfg.Store.OpenWork(ctx)
	if err != nil {
		return fatal("reading open requests from the ledger: %w", err)
	}
	r.cfg.Progress.Total.Store(int64(len(work)))
	r.log.Info("run started", "open_requests", len(work))

	g, gctx := errgroup.WithContext(ctx)
	r.deleter = newDeleter(r)
	r.verifier = newVerifier(r)
	g.Go(func() error { return r.deleter.loop(gctx) }) // closes the verifier's input when done
	g.Go(func() error { return r.verifier.loop(gctx) })
	g.Go(func() error {
		defer r.deleter.close()
		if err := r.work(gctx, work); err != nil {
			return err
		}
		return r.sharedScans(gctx)
	})
	err = g.Wait()
	if err == nil {
		err = ctx.Err()
	}
	if err != nil && ctx.Err() != nil && !errors.Is(err, ErrFatal) {
		return fmt.Errorf("run interrupted: %w", ctx.Err())
	}
	return err
}

// work fans the open requests out to bounded workers, like errgroup's md5all
// example: a producer feeds a channel, workers range over it, and only
// run-fatal errors are returned.
func (r *Runner) work(ctx context.Context, work []Work) error {
	// Once every deletion has been handed to the deleter, what it holds
	// need not wait for the access work to end.
	var deletions atomic.Int64
	toDelete := func(w Work) bool { return w.Type == Deletion && w.Status != StatusDeleteSubmitted }
	for _, w := range work {
		if toDelete(w) {
			deletions.Add(1)
		}
	}
	if deletions.Load() == 0 {
		r.deleter.noMore()
	}
	g, ctx := errgroup.WithContext(ctx)
	items := make(chan Work)
	g.Go(func() error {
		defer close(items)
		for _, w := range interleave(work) {
			select {
			case items <- w:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	for range r.cfg.Workers {
		g.Go(func() error {
			for w := range items {
				if err := r.one(ctx, w); err != nil {
					return err
				}
				if toDelete(w) && deletions.Add(-1) == 0 {
					r.deleter.noMore()
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// interleave orders work for the API groups: access requests load the
// events group, deletions the profile group, so spreading each kind evenly
// through the run keeps both busy, where request-ID order (often one
// manifest per type) would use one group after the other. Deletions only
// waiting for verification cost a worker nothing and go first. Each kind
// keeps its own order.
func interleave(work []Work) []Work {
	var verify, access, other []Work
	for _, w := range work {
		switch {
		case w.Type == Deletion && w.Status == StatusDeleteSubmitted:
			verify = append(verify, w)
		case w.Type == Access:
			access = append(access, w)
		default:
			other = append(other, w)
		}
	}
	out := append(make([]Work, 0, len(work)), verify...)
	for i, j := 0, 0; i < len(access) || j < len(other); {
		// Take from the kind further behind its share of the run.
		if j == len(other) || (i < len(access) && i*len(other) <= j*len(access)) {
			out = append(out, access[i])
			i++
		} else {
			out = append(out, other[j])
			j++
		}
	}
	return out
}

// one carries out one request as far as it can go now.
func (r *Runner) one(ctx context.Context, w Work) error {
	switch w.Type {
	case Access:
		return r.access(ctx, w)
	case Deletion:
		return r.deletion(ctx, w)
	}
	return r.finish(ctx, w.ID, StatusFailed, fmt.Sprintf("unknown request type %q", w.Type))
}

// finish records a status and counts the request as finished when the
// status ends it.
func (r *Runner) finish(ctx context.Context, id string, st Status, detail string) error {
	if err := r.cfg.Store.SetStatus(ctx, r.cfg.RunID, id, st, detail, r.cfg.Now()); err != nil {
		return fatal("recording status of request %s: %w", id, err)
	}
	// finish is given statuses that end a request, and an accepted delete
	// only when deletions complete on submit.
	if st.Terminal(Deletion, r.cfg.CompleteOnSubmit) {
		r.cfg.Progress.Finished.Add(1)
	}
	r.log.Debug("request status", "request_id", id, "status", st)
	return nil
}

// unreachableAfter is how many network failures, with no request finished,
// make a run fatal.
const unreachableAfter = 10

// failed records a failed attempt at a request. It returns a non-nil error
// only when the run must stop: a fatal API error, the context ending, or the
// ledger failing.
func (r *Runner) failed(ctx context.Context, w Work, err error) error {
	if isFatalAPI(err) {
		return fatal("CleverTap refused the credentials: %w", err)
	}
	if errors.Is(err, ErrFatal) {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	class, permanent := classify(err)
	if class == "transient" && r.cfg.Progress.Finished.Load() == 0 && r.transportFailures.Add(1) >= unreachableAfter {
		return fatal("CleverTap looks unreachable: %d requests failed and none finished; last error: %w", unreachableAfter, err)
	}
	giveUp := permanent || w.Attempts+1 >= r.cfg.MaxAttempts
	r.cfg.Progress.Failed.Add(1)
	r.log.Warn("request attempt failed", "request_id", w.ID, "class", class, "attempt", w.Attempts+1, "give_up", giveUp, "err", err)
	if err := r.cfg.Store.RecordFailure(ctx, r.cfg.RunID, w.ID, Failure{Class: class, Message: err.Error(), GiveUp: giveUp}); err != nil {
		return fatal("recording failure of request %s: %w", w.ID, err)
	}
	if giveUp {
		r.cfg.Progress.Finished.Add(1)
	}
	return nil
}
