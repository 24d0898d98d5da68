package batch

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// maxResweeps bounds the second sweeps of one run; a larger backlog is
// worked off by the next runs, oldest first.
const maxResweeps = 10_000

// resweep looks every deletion verified at least ResweepAfter ago up once
// more, by email and user id: a subject deleted and verified who came back
// (a new profile, the same email) is reported as reappeared. A sweep that
// finds nothing is recorded only when this run found some subject, which
// shows it is looking at the right account; otherwise the next run sweeps
// again.
func (r *Runner) resweep(ctx context.Context) error {
	if r.cfg.ResweepAfter <= 0 {
		return nil
	}
	due, err := r.store.ResweepDue(ctx, r.now().Add(-r.cfg.ResweepAfter), maxResweeps)
	if err != nil {
		return fatal("reading deletions due a second sweep: %w", err)
	}
	if len(due) == 0 {
		return nil
	}
	r.log.Info("second sweep of verified deletions", "requests", len(due))
	var (
		mu   sync.Mutex
		gone []Work
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.cfg.Workers)
	for _, w := range due {
		g.Go(func() error {
			back, detail, err := r.sweepOne(gctx, w)
			switch {
			case err != nil:
				if ferr := runFatal(err); ferr != nil {
					return ferr
				}
				if outOfTime(gctx, err) || gctx.Err() != nil {
					return err
				}
				r.log.Warn("second sweep failed; the next run tries again", "request_id", w.ID, "err", err)
				return nil
			case back:
				r.prog.Reswept.Add(1)
				r.prog.Reappeared.Add(1)
				r.gate.found()
				return r.recordResweep(gctx, w, Resweep{At: r.now(), Back: true, Detail: detail})
			}
			mu.Lock()
			gone = append(gone, w)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if !r.gate.anyFound() {
		r.log.Info("second sweeps found nobody, but neither did anything else this run: not recorded, to rule out the wrong account",
			"requests", len(gone))
		return nil
	}
	for _, w := range gone {
		r.prog.Reswept.Add(1)
		if err := r.recordResweep(ctx, w, Resweep{At: r.now()}); err != nil {
			return err
		}
	}
	return nil
}

func (r *Runner) recordResweep(ctx context.Context, w Work, rs Resweep) error {
	if err := r.store.RecordResweep(ctx, r.runID, w.ID, rs); err != nil {
		return fatal("recording the second sweep of request %s: %w", w.ID, err)
	}
	return nil
}

// sweepOne looks a verified deletion's subject up again; back reports a
// profile found, with the detail naming its objectIds and first event.
func (r *Runner) sweepOne(ctx context.Context, w Work) (back bool, detail string, err error) {
	s, err := r.res.resolve(ctx, w.Request)
	if err != nil || len(s.profiles) == 0 {
		return false, "", err
	}
	var ids []string
	var first time.Time
	for _, p := range s.profiles {
		ids = append(ids, p.ObjectIDs()...)
		for _, e := range p.Events {
			if !e.FirstSeen.IsZero() && (first.IsZero() || e.FirstSeen.Before(first)) {
				first = e.FirstSeen
			}
		}
	}
	slices.Sort(ids)
	since := "with no events yet"
	if !first.IsZero() {
		since = "first seen " + first.UTC().Format(time.RFC3339)
	}
	return true, fmt.Sprintf("verified gone, but the second sweep found the subject back as %d profile(s) (objectIds %s, %s); "+
		"delete again with a new request and set the SDK opt-out flag", len(s.profiles), strings.Join(ids, ", "), since), nil
}
