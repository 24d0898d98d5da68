package batch

import (
	"context"
	"time"
)

// detachedStore records state changes even after the run's context was
// cancelled: when a signal stops the run, work CleverTap already did (a
// delete it accepted, events already exported) must still reach the ledger,
// or the next run would repeat or lose it. Only the cancellation is
// detached; the context's values are kept.
type detachedStore struct{ s Store }

func (d detachedStore) OpenWork(ctx context.Context, kind RequestType, after WorkCursor, limit int) ([]Work, WorkCursor, error) {
	return d.s.OpenWork(ctx, kind, after, limit)
}

func (d detachedStore) CountOpen(ctx context.Context, kind RequestType) (int, error) {
	return d.s.CountOpen(ctx, kind)
}

func (d detachedStore) SaveProfiles(ctx context.Context, runID, requestID string, profiles []FoundProfile) error {
	return d.s.SaveProfiles(context.WithoutCancel(ctx), runID, requestID, profiles)
}

func (d detachedStore) BeginEvents(ctx context.Context, runID, requestID, eventName string) (PartID, error) {
	return d.s.BeginEvents(context.WithoutCancel(ctx), runID, requestID, eventName)
}

func (d detachedStore) AppendEvents(ctx context.Context, runID string, pages []EventPage) error {
	return d.s.AppendEvents(context.WithoutCancel(ctx), runID, pages)
}

func (d detachedStore) FinishEvents(ctx context.Context, runID string, exports []EventExport) ([]int64, error) {
	return d.s.FinishEvents(context.WithoutCancel(ctx), runID, exports)
}

func (d detachedStore) DropEvents(ctx context.Context, runID string, parts []PartID) error {
	return d.s.DropEvents(context.WithoutCancel(ctx), runID, parts)
}

func (d detachedStore) SetStatus(ctx context.Context, runID, requestID string, st Status, detail string, at time.Time) error {
	return d.s.SetStatus(context.WithoutCancel(ctx), runID, requestID, st, detail, at)
}

func (d detachedStore) RecordFailure(ctx context.Context, runID, requestID string, f Failure) error {
	return d.s.RecordFailure(context.WithoutCancel(ctx), runID, requestID, f)
}

func (d detachedStore) PlanDeletion(ctx context.Context, runID, requestID string, plan DeletionPlan) error {
	return d.s.PlanDeletion(context.WithoutCancel(ctx), runID, requestID, plan)
}

func (d detachedStore) MarkDeleteSubmitted(ctx context.Context, runID string, requestIDs []string, at, next time.Time) error {
	return d.s.MarkDeleteSubmitted(context.WithoutCancel(ctx), runID, requestIDs, at, next)
}

func (d detachedStore) RecordCheck(ctx context.Context, runID, requestID string, c Check) error {
	return d.s.RecordCheck(context.WithoutCancel(ctx), runID, requestID, c)
}

func (d detachedStore) ResweepDue(ctx context.Context, before time.Time, limit int) ([]Work, error) {
	return d.s.ResweepDue(ctx, before, limit)
}

func (d detachedStore) RecordResweep(ctx context.Context, runID, requestID string, r Resweep) error {
	return d.s.RecordResweep(context.WithoutCancel(ctx), runID, requestID, r)
}
