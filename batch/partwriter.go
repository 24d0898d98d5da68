package batch

import (
	"context"
	"slices"
)

// partWriter writes the events one export finds for one subject into a
// part of the ledger (Store.BeginEvents), a page at a time: the run holds
// at most the current page of events, whatever the export's size. The
// part is begun with its first event, so an export that finds nothing
// for the subject costs no write.
type partWriter struct {
	job  *accessJob
	name string
	id   PartID          // zero until the first page is written
	ids  map[string]bool // objectIds of the events added
	page []Event         // added since the last write
}

func newPartWriter(job *accessJob, name string) *partWriter {
	return &partWriter{job: job, name: name, ids: map[string]bool{}}
}

// add queues e for the next write.
func (w *partWriter) add(e Event) {
	w.page = append(w.page, e)
	if e.ObjectID != "" {
		w.ids[e.ObjectID] = true
	}
}

// held is what the writer wrote, as a part of its subject's coverage that
// replaces nothing; a writer that wrote nothing gives a part with ID zero.
func (w *partWriter) held() heldPart {
	return heldPart{EventPart: EventPart{ID: w.id}, ids: w.ids}
}

// writePages writes the queued page of every writer in one AppendEvents,
// beginning the parts of writers that have none yet. A writer whose job
// failed meanwhile writes nothing more: its request may be closed, and
// with it its pending parts. Should one fail while this call writes, the
// others' pages are written again without its.
func (r *Runner) writePages(ctx context.Context, ws ...*partWriter) error {
	err := r.tryWritePages(ctx, ws)
	if err != nil && slices.ContainsFunc(ws, func(w *partWriter) bool { return len(w.page) > 0 && w.job.isFailed() }) {
		err = r.tryWritePages(ctx, ws)
	}
	return err
}

func (r *Runner) tryWritePages(ctx context.Context, ws []*partWriter) error {
	var pages []EventPage
	for _, w := range ws {
		if w.job.isFailed() {
			w.page = w.page[:0]
		}
		if len(w.page) == 0 {
			continue
		}
		if w.id == 0 {
			id, err := r.store.BeginEvents(ctx, r.runID, w.job.w.ID, w.name)
			if err != nil {
				return fatal("starting the export of an event name of request %s: %w", w.job.w.ID, err)
			}
			w.id = id
		}
		pages = append(pages, EventPage{Part: w.id, Events: w.page})
	}
	if len(pages) == 0 {
		return nil
	}
	if err := r.store.AppendEvents(ctx, r.runID, pages); err != nil {
		return fatal("saving exported events: %w", err)
	}
	for _, w := range ws {
		w.page = w.page[:0]
	}
	return nil
}

// dropWriters removes the parts of an export that failed or whose events
// are not wanted after all.
func (r *Runner) dropWriters(ctx context.Context, ws ...*partWriter) {
	ids := make([]PartID, 0, len(ws))
	for _, w := range ws {
		ids = append(ids, w.id)
	}
	r.dropParts(ctx, ids)
}

// dropParts removes pending parts the run no longer needs (zero ids are
// skipped). A part left behind goes when its request closes or another run
// exports the name, so a failure here is only logged.
func (r *Runner) dropParts(ctx context.Context, ids []PartID) {
	ids = slices.DeleteFunc(ids, func(id PartID) bool { return id == 0 })
	if len(ids) == 0 {
		return
	}
	if err := r.store.DropEvents(ctx, r.runID, ids); err != nil {
		r.log.Warn("could not remove parts of event exports the run no longer needs; they go when their requests close",
			"parts", len(ids), "err", err)
	}
}
