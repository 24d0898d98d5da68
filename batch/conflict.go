package batch

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ConflictPolicy says what a run does when a profile found contradicts the
// request's row (see subject.check).
type ConflictPolicy string

// The conflict policies.
const (
	// ConflictReview ends the request as StatusConflict: nothing is
	// exported or deleted, and a person looks at the row.
	ConflictReview ConflictPolicy = "review"
	// ConflictUnion carries on with every profile found, for teams whose
	// manifests are verified upstream; the detail still says which profile
	// contradicted what.
	ConflictUnion ConflictPolicy = "union"
)

func (p ConflictPolicy) valid() bool { return p == ConflictReview || p == ConflictUnion }

// conflictError stops a request whose subject contradicts its row.
type conflictError struct{ conflicts []conflict }

func (e *conflictError) Error() string { return "conflict: " + describe(e.conflicts) }

// endConflict closes a request as StatusConflict. Its detail names the
// contradicting fields and objectIds; the log line names only fields.
func (r *Runner) endConflict(ctx context.Context, w Work, cs []conflict, what string) error {
	r.log.Warn("request ends in conflict: a profile found contradicts the row", "request_id", w.ID, "fields", fields(cs))
	return r.finish(ctx, w.ID, StatusConflict, fmt.Sprintf("conflict: %s; %s", describe(cs), what))
}

// ErrNoMatches: a run looked many subjects up and found none of them, which
// is what the wrong account (a test account, another region) looks like.
var ErrNoMatches = errors.New("no subject was found")

// noMatchLimit is how many subjects a run looks up without finding any
// before it suspects the wrong account.
const noMatchLimit = 20

// matchGate holds "not found" verdicts back until the run has shown that
// the account holds some subject: when noMatchLimit subjects in a row are
// not found, the run stops with ErrNoMatches before closing any of them,
// and they stay open for a run against the right account.
type matchGate struct {
	mu      sync.Mutex
	open    bool // a subject was found, or no matches are expected
	any     bool // a subject was found in this run
	misses  int
	held    []heldMiss
	account string
}

type heldMiss struct {
	id, detail string
}

// found opens the gate: the account holds at least one subject. It
// returns the held verdicts, which the caller must now record.
func (g *matchGate) found() []heldMiss {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.any = true
	if g.open {
		return nil
	}
	g.open = true
	held := g.held
	g.held = nil
	return held
}

// miss records a subject that was not found. It reports whether the
// verdict may be recorded now, or an error wrapping ErrNoMatches when the
// run must stop.
func (g *matchGate) miss(id, detail string) (now bool, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open {
		return true, nil
	}
	g.misses++
	g.held = append(g.held, heldMiss{id, detail})
	if g.misses >= noMatchLimit {
		return false, fatal("%w: %d subjects looked up in CleverTap account %s, none found: is this the right account and region? "+
			"(their requests stay open; --expect-no-matches lets a run finish when none is expected to be there)",
			ErrNoMatches, g.misses, g.account)
	}
	return false, nil
}

// anyFound reports whether the run found any subject, or expects none.
func (g *matchGate) anyFound() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.any
}

// release returns the verdicts still held once every subject was looked
// up and fewer than noMatchLimit were missed: they are genuine.
func (g *matchGate) release() []heldMiss {
	g.mu.Lock()
	defer g.mu.Unlock()
	held := g.held
	g.held = nil
	g.open = true
	return held
}

// notFound records that a request's subject is not in CleverTap, through
// the gate.
func (r *Runner) notFound(ctx context.Context, w Work, detail string) error {
	now, err := r.gate.miss(w.ID, detail)
	if err != nil || !now {
		return err
	}
	return r.finish(ctx, w.ID, StatusNotFound, detail)
}

// subjectFound opens the gate and records the verdicts it held.
func (r *Runner) subjectFound(ctx context.Context) error {
	return r.recordMisses(ctx, r.gate.found())
}

func (r *Runner) recordMisses(ctx context.Context, held []heldMiss) error {
	for _, h := range held {
		if err := r.finish(ctx, h.id, StatusNotFound, h.detail); err != nil {
			return err
		}
	}
	return nil
}
