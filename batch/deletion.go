package batch

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ctdsr/ctdsr/clevertap"
)

// deletion resolves the subject, records what will be deleted and hands the
// ids to the delete batcher. A deletion CleverTap already accepted goes
// straight to verification; one planned but not accepted is sent again
// (deleting is idempotent).
func (r *Runner) deletion(ctx context.Context, w Work) error {
	switch {
	case w.Status == StatusDeleteSubmitted && r.cfg.CompleteOnSubmit:
		r.prog.Finished.Add(1) // accepted counts as done: nothing to verify
		return nil
	case w.Status == StatusDeleteSubmitted:
		r.verifier.add(w)
		return nil
	case w.Plan != nil:
		return r.deleter.add(ctx, w)
	}
	s, err := r.res.resolve(ctx, w.Request)
	if err != nil {
		return r.failed(ctx, w, err)
	}
	if len(s.profiles) == 0 {
		return r.notFound(ctx, w, "no CleverTap profile matched the email or user id; nothing to delete")
	}
	if err := r.subjectFound(ctx); err != nil {
		return err
	}
	if len(s.conflicts) > 0 && r.cfg.OnConflict == ConflictReview {
		return r.endConflict(ctx, w, s.conflicts, "nothing was deleted")
	}
	plan := DeletionPlan{
		ObjectIDs:  slices.Sorted(maps.Keys(s.objectIDs)),
		Identities: slices.Sorted(maps.Keys(s.identities)),
		Profiles:   len(s.profiles),
	}
	if len(s.conflicts) > 0 { // --on-conflict union
		plan.Notes = "deleted despite contradictions (--on-conflict union): " + describe(s.conflicts)
	}
	if len(plan.ObjectIDs)+len(plan.Identities) == 0 {
		return r.finish(ctx, w.ID, StatusFailed, "profile found but it has neither an objectId nor an identity to delete by")
	}
	if err := r.store.PlanDeletion(ctx, r.runID, w.ID, plan); err != nil {
		return fatal("recording deletion plan of request %s: %w", w.ID, err)
	}
	w.Plan = &plan
	return r.deleter.add(ctx, w)
}

// submitted takes a deletion CleverTap accepted: in submit mode it is
// closed in the ledger (so later runs and `ctdsr status` do not count it as
// open), otherwise it goes to verification.
func (r *Runner) submitted(ctx context.Context, w *Work) error {
	if r.cfg.CompleteOnSubmit {
		return r.finish(ctx, w.ID, StatusDeleteAccepted,
			"delete accepted by CleverTap; counted as done (--deletion-complete-on submit), not verified")
	}
	r.verifier.add(*w)
	return nil
}

// verify runs one verification of a deletion and records it; it returns
// the work to check again, or nil when the request is settled.
func (r *Runner) verify(ctx context.Context, w Work) (*Work, error) {
	c, err := r.checkDeletion(ctx, &w)
	if err != nil {
		if isFatalAPI(err) || errors.Is(err, ErrFatal) || outOfTime(ctx, err) || ctx.Err() != nil {
			return nil, r.failed(ctx, w, err)
		}
		// A failed search is not a verdict: try again at the next interval.
		r.log.Warn("verification search failed", "request_id", w.ID, "err", err)
		w.NextCheckAt = r.now().Add(r.nextCheck(w.Checks + 1))
		return &w, nil
	}
	if err := r.store.RecordCheck(ctx, r.runID, w.ID, c); err != nil {
		return nil, fatal("recording verification of request %s: %w", w.ID, err)
	}
	w.Checks++
	w.LastCheckedAt = c.At
	if c.Status != StatusDeleteSubmitted {
		r.prog.Pending.Add(-1)
		r.prog.Finished.Add(1)
		r.log.Debug("deletion settled", "request_id", w.ID, "status", c.Status, "checks", w.Checks)
		return nil, nil
	}
	w.NextCheckAt = c.Next
	return &w, nil
}

// checkDeletion searches for a deleted subject again and decides: gone
// (verified), still there (pending, or failed past the deadline), or found
// only as profiles that did not exist when the delete was sent (reappeared).
// A profile that predates the delete but was not deleted — an orphan sharing
// the email, which CleverTap's one-record lookup hid — is deleted too.
func (r *Runner) checkDeletion(ctx context.Context, w *Work) (Check, error) {
	now := r.now()
	s, err := r.res.resolve(ctx, w.Request)
	if err != nil {
		return Check{}, err
	}
	deleted := map[string]bool{}
	for _, id := range w.Plan.ObjectIDs {
		deleted[id] = true
	}
	var still, older, newer []string
	var olderProfiles []*clevertap.Profile
	for _, p := range s.profiles {
		ids := p.ObjectIDs()
		switch {
		case slices.ContainsFunc(ids, func(id string) bool { return deleted[id] }):
			still = append(still, ids...)
		case existedBefore(p, w.DeleteRequestedAt):
			older = append(older, ids...)
			olderProfiles = append(olderProfiles, p)
		default:
			newer = append(newer, ids...)
		}
	}
	c := Check{At: now, Status: StatusDeleteSubmitted, Next: now.Add(r.nextCheck(w.Checks + 1))}
	if len(s.conflicts) > 0 && r.cfg.OnConflict == ConflictReview {
		r.log.Warn("deletion ends in conflict at verification: a profile found contradicts the row", "request_id", w.ID, "fields", fields(s.conflicts))
		c.Status, c.Next = StatusConflict, time.Time{}
		c.Detail = fmt.Sprintf("conflict at verification: %s; the profiles planned before (objectIds %s) were deleted, the contradicting ones were not",
			describe(s.conflicts), strings.Join(w.Plan.ObjectIDs, ", "))
		return c, nil
	}
	switch {
	case len(s.profiles) == 0:
		c.Status, c.Detail = StatusVerified, "searched by email and user id: no profile left"
	case len(still) > 0 && now.Sub(w.DeleteRequestedAt) > r.cfg.VerifyDeadline:
		c.Status = StatusFailed
		c.Detail = fmt.Sprintf("deleted profile still present %s after the delete (objectIds %s)",
			now.Sub(w.DeleteRequestedAt).Round(time.Minute), strings.Join(still, ", "))
	case len(still) > 0:
		c.Detail = "deleted profile still present; CleverTap deletes within 24-48h"
	case len(older) > 0:
		if err := r.deleteMore(ctx, w, olderProfiles, s.conflicts); err != nil {
			return Check{}, err
		}
		c.Detail = fmt.Sprintf("found %d more profile(s) that predate the delete; deleted them too", len(olderProfiles))
	default:
		c.Status = StatusReappeared
		c.Detail = fmt.Sprintf("deleted profile gone, but the subject came back as a new profile (objectIds %s); set the SDK opt-out flag",
			strings.Join(newer, ", "))
	}
	return c, nil
}

// existedBefore reports whether a profile's events started before t. A
// profile without events is taken as new.
func existedBefore(p *clevertap.Profile, t time.Time) bool {
	for _, s := range p.Events {
		if !s.FirstSeen.IsZero() && s.FirstSeen.Before(t) {
			return true
		}
	}
	return false
}

// deleteMore extends a submitted deletion with more profiles and deletes
// them now. The plan is recorded once CleverTap accepted the ids (a crash
// before that finds the same profiles again at the next check), and the
// verification deadline restarts: CleverTap takes its usual time for them.
func (r *Runner) deleteMore(ctx context.Context, w *Work, ps []*clevertap.Profile, cs []conflict) error {
	ids, idents := map[string]bool{}, map[string]bool{}
	for _, id := range w.Plan.ObjectIDs {
		ids[id] = true
	}
	for _, id := range w.Plan.Identities {
		idents[id] = true
	}
	var newIDs, newIdents []string
	for _, p := range ps {
		for _, id := range p.ObjectIDs() {
			if !ids[id] {
				ids[id] = true
				newIDs = append(newIDs, id)
			}
		}
		if p.Identity != "" && !idents[p.Identity] {
			idents[p.Identity] = true
			newIdents = append(newIdents, p.Identity)
		}
	}
	for _, chunk := range slices.Collect(slices.Chunk(newIDs, maxDeleteIDs)) {
		if err := r.api.Delete(ctx, clevertap.DeleteRequest{GUIDs: chunk}); err != nil {
			return err
		}
	}
	for _, chunk := range slices.Collect(slices.Chunk(newIdents, maxDeleteIDs)) {
		if err := r.api.Delete(ctx, clevertap.DeleteRequest{Identities: chunk}); err != nil {
			return err
		}
	}
	plan := DeletionPlan{ObjectIDs: slices.Sorted(maps.Keys(ids)), Identities: slices.Sorted(maps.Keys(idents)),
		Profiles: w.Plan.Profiles + len(ps), Notes: w.Plan.Notes}
	if len(cs) > 0 { // --on-conflict union
		note := "deleted at verification despite contradictions (--on-conflict union): " + describe(cs)
		plan.Notes = strings.TrimPrefix(plan.Notes+"; "+note, "; ")
	}
	if err := r.store.PlanDeletion(ctx, r.runID, w.ID, plan); err != nil {
		return fatal("recording deletion plan of request %s: %w", w.ID, err)
	}
	now := r.now()
	if err := r.store.MarkDeleteSubmitted(ctx, r.runID, []string{w.ID}, now, now.Add(r.nextCheck(w.Checks+1))); err != nil {
		return fatal("recording accepted deletes: %w", err)
	}
	w.Plan, w.DeleteRequestedAt = &plan, now
	return nil
}

// nextCheck is the wait before verification number n (1-based): VerifyFirst,
// doubling, at most VerifyMax.
func (r *Runner) nextCheck(n int) time.Duration {
	d := r.cfg.VerifyFirst
	for i := 1; i < n && d < r.cfg.VerifyMax; i++ {
		d *= 2
	}
	return min(d, r.cfg.VerifyMax)
}
