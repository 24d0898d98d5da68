package batch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// ZoneEvidence returns what the run's exports showed of the account's
// timezone.
func (r *Runner) ZoneEvidence() ZoneEvidence { return r.zone.evidence() }

// Progress counts a run's requests as they finish; safe for concurrent use.
type Progress struct {
	Total    atomic.Int64 // open requests at the start of the run
	Finished atomic.Int64 // requests that reached a status this run
	Failed   atomic.Int64 // attempts that failed this run
	Pending  atomic.Int64 // deletions waiting for verification

	Reswept    atomic.Int64 // verified deletions swept a second time
	Reappeared atomic.Int64 // of them, found back
}

// Runner carries out one run.
type Runner struct {
	cfg   Config
	runID string
	store Store
	api   CleverTap
	now   func() time.Time
	log   *slog.Logger
	prog  *Progress
	res   resolver
	gate  *matchGate
	zone  *zoneCheck

	// filter is what the run learnt of CleverTap's profile filter: once it
	// is refused or ignored, subjects wait for shared scans.
	filter *filterState
	mu     sync.Mutex
	parked map[string][]*parkedNeed // event name → subjects waiting for a shared scan
	// unexportable are the event names CleverTap refused to export this
	// run, with its reason (guarded by mu).
	unexportable map[string]string

	deleter  *deleter
	verifier *verifier

	page int // open requests read from the ledger at once, per type (workPage)
}

// NewRunner validates cfg and returns a Runner working with d.
func NewRunner(cfg Config, d Deps) (*Runner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("batch: %w", err)
	}
	d, err := d.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &Runner{
		cfg: cfg, runID: d.RunID, store: detachedStore{d.Store}, api: d.API, now: d.Now,
		log: d.Logger, prog: d.Progress, res: resolver{api: d.API, now: d.Now},
		gate: &matchGate{open: cfg.ExpectNoMatches, account: d.Account}, zone: newZoneCheck(cfg.Location),
		filter: newFilterState(), parked: map[string][]*parkedNeed{}, page: workPage,
	}
	return r, nil
}

// Run carries out every open request in the ledger. It returns nil when the
// run finished (rows may still have failed: the ledger says which), an
// error wrapping ErrFatal when it had to stop, or the context's error when
// it was interrupted. State already committed stays committed either way.
func (r *Runner) Run(ctx context.Context) error {
	open, err := r.store.CountOpen(ctx, "")
	if err != nil {
		return fatal("counting open requests in the ledger: %w", err)
	}
	deletions, err := r.store.CountOpen(ctx, Deletion)
	if err != nil {
		return fatal("counting open deletions in the ledger: %w", err)
	}
	r.prog.Total.Store(int64(open))
	r.log.Info("run started", "open_requests", open, "open_deletions", deletions)

	g, gctx := errgroup.WithContext(ctx)
	r.verifier = r.newVerifier()
	r.deleter = r.newDeleter()
	g.Go(func() error { return r.deleter.loop(gctx) }) // closes the verifier's input when done
	g.Go(func() error { return r.verifier.loop(gctx) })
	g.Go(func() error {
		defer r.deleter.close()
		if err := r.work(gctx, open-deletions, deletions); err != nil {
			return err
		}
		// Every subject was looked up and fewer than noMatchLimit were
		// missed: the "not found" verdicts held back are genuine.
		if err := r.recordMisses(gctx, r.gate.release()); err != nil {
			return err
		}
		if err := r.sharedScans(gctx); err != nil {
			return err
		}
		return r.resweep(gctx)
	})
	err = g.Wait()
	if err == nil {
		err = ctx.Err()
	}
	switch {
	case err == nil:
	case errors.Is(err, ErrFatal):
	case outOfTime(ctx, err), errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%w: the next run continues", ErrOutOfTime)
	case ctx.Err() != nil:
		return fmt.Errorf("run interrupted: %w", ctx.Err())
	}
	return err
}

// workPage is how many open requests of one type a run reads from the
// ledger at once: with the workers' requests, what the run holds of the
// ledger.
const workPage = 500

// maxParked bounds the access subjects waiting for shared scans: once that
// many wait, the run lets its workers finish their requests, runs the
// shared scans for those subjects, and only then reads further pages. A
// scan serves every subject waiting for it, whichever page it came from,
// so pages only bound how many subjects share one scan.
const maxParked = 2000

// work fans the open requests out to bounded workers, like errgroup's md5all
// example: a producer reads the ledger and feeds a channel, workers range
// over it, and only run-fatal errors are returned.
//
// Access requests load the events group and deletions the profile group
// (each also makes a lookup or two), and the groups' calls run side by
// side. A run that took its requests in the ledger's order would, when a
// manifest of one type was loaded before another's, keep one group busy
// while the other idles, and then the other way round. So the producer
// reads one stream of pages per type (each by due date, the oldest first)
// and merges them in proportion to the open requests of each type: both
// kinds end together and neither group waits for the other kind's turn.
// Once every deletion has been handed to the batcher, what it holds is
// sent at once: nothing else can join it.
func (r *Runner) work(ctx context.Context, access, deletions int) error {
	var (
		planning atomic.Int64 // deletions handed to workers, not yet to the batcher
		lastDel  atomic.Bool  // the deletion stream has ended
		inflight sync.WaitGroup
	)
	toDelete := func(w Work) bool { return w.Type == Deletion && w.Status != StatusDeleteSubmitted }
	handed := func() {
		if planning.Add(-1) == 0 && lastDel.Load() {
			r.deleter.noMore()
		}
	}
	g, ctx := errgroup.WithContext(ctx)
	items := make(chan Work)
	g.Go(func() error {
		defer close(items)
		acc := &workStream{read: r.store.OpenWork, kind: Access, total: access, page: r.page}
		del := &workStream{read: r.store.OpenWork, kind: Deletion, total: deletions, page: r.page}
		// beforePage runs before each further page of access requests: the
		// subjects parked by the pages so far are served first once there
		// are many of them.
		acc.beforePage = func(ctx context.Context) error {
			if r.parkedJobs() < maxParked {
				return nil
			}
			inflight.Wait()
			return r.sharedScans(ctx)
		}
		for {
			w, ok, err := nextWork(ctx, acc, del)
			if err != nil {
				return err
			}
			if ok && toDelete(w) {
				planning.Add(1)
			}
			if del.ended() && !lastDel.Load() {
				lastDel.Store(true)
				if planning.Load() == 0 {
					r.deleter.noMore()
				}
			}
			if !ok {
				return nil
			}
			inflight.Add(1)
			select {
			case items <- w:
			case <-ctx.Done():
				inflight.Done()
				return ctx.Err()
			}
		}
	})
	for range r.cfg.Workers {
		g.Go(func() error {
			for w := range items {
				err := r.one(ctx, w)
				if toDelete(w) {
					handed()
				}
				inflight.Done()
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// nextWork returns the next request to work on from the two streams: from
// the one further behind its share of the run (the other once one is
// over); ok is false when both are over. Within a stream the ledger's
// order holds.
func nextWork(ctx context.Context, acc, del *workStream) (w Work, ok bool, err error) {
	hasAcc, err := acc.more(ctx)
	if err != nil {
		return Work{}, false, err
	}
	hasDel, err := del.more(ctx)
	if err != nil {
		return Work{}, false, err
	}
	s := acc
	switch {
	case !hasAcc && !hasDel:
		return Work{}, false, nil
	case !hasAcc:
		s = del
	case hasDel && acc.taken*max(del.total, 1) > del.taken*max(acc.total, 1):
		s = del
	}
	return s.take(), true, nil
}

// workStream reads the open requests of one type from the ledger a page at
// a time.
type workStream struct {
	read  func(ctx context.Context, kind RequestType, after WorkCursor, limit int) ([]Work, WorkCursor, error) // Store.OpenWork
	kind  RequestType
	total int // open requests of the kind when the run started
	page  int // requests per page

	// beforePage, when set, runs before every page but the first.
	beforePage func(ctx context.Context) error

	buf   []Work
	after WorkCursor
	reads int  // pages read
	last  bool // the page in buf was the last
	taken int
}

// more reports whether the stream has another request, reading a page when
// it needs one.
func (s *workStream) more(ctx context.Context) (bool, error) {
	if len(s.buf) > 0 || s.last {
		return len(s.buf) > 0, nil
	}
	if s.reads > 0 && s.beforePage != nil {
		if err := s.beforePage(ctx); err != nil {
			return false, err
		}
	}
	page, next, err := s.read(ctx, s.kind, s.after, s.page)
	if err != nil {
		return false, fatal("reading open %s requests from the ledger: %w", s.kind, err)
	}
	s.reads++
	s.buf, s.after, s.last = page, next, len(page) < s.page
	return len(s.buf) > 0, nil
}

// take returns the next request; more must have said there is one.
func (s *workStream) take() Work {
	w := s.buf[0]
	s.buf[0] = Work{} // the page's array lives on: let go of what the worker holds
	s.buf = s.buf[1:]
	s.taken++
	return w
}

// ended reports whether every request of the stream has been taken.
func (s *workStream) ended() bool { return s.last && len(s.buf) == 0 }

// parkedJobs counts the access subjects waiting for shared scans.
func (r *Runner) parkedJobs() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[*accessJob]bool{}
	for _, needs := range r.parked {
		for _, p := range needs {
			seen[p.job] = true
		}
	}
	return len(seen)
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
	if err := r.store.SetStatus(ctx, r.runID, id, st, detail, r.now()); err != nil {
		return fatal("recording status of request %s: %w", id, err)
	}
	if st.Terminal() {
		r.prog.Finished.Add(1)
	}
	r.log.Debug("request status", "request_id", id, "status", st)
	return nil
}

// failed records a failed attempt at a request. It returns a non-nil error
// only when the run must stop: a fatal API error, the context ending, or the
// ledger failing.
func (r *Runner) failed(ctx context.Context, w Work, err error) error {
	if ferr := runFatal(err); ferr != nil {
		return ferr
	}
	if errors.Is(err, ErrFatal) {
		return err
	}
	if outOfTime(ctx, err) {
		return fmt.Errorf("%w: %w", ErrOutOfTime, err) // nothing is held against the request
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	class, permanent := classify(err)
	giveUp := permanent || w.Attempts+1 >= r.cfg.MaxAttempts
	r.prog.Failed.Add(1)
	r.log.Warn("request attempt failed", "request_id", w.ID, "class", class, "attempt", w.Attempts+1, "give_up", giveUp, "err", err)
	if err := r.store.RecordFailure(ctx, r.runID, w.ID, Failure{Class: class, Message: err.Error(), GiveUp: giveUp}); err != nil {
		return fatal("recording failure of request %s: %w", w.ID, err)
	}
	if giveUp {
		r.prog.Finished.Add(1)
	}
	return nil
}
