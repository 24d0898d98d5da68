package batchtest

import (
	"context"
	"fmt"
	"slices"

	"github.com/ctdsr/ctdsr/batch"
)

// BeginEvents starts a pending part of the export of (request, name),
// after removing the pending parts other runs left for that name.
func (s *Store) BeginEvents(ctx context.Context, runID, requestID, eventName string) (batch.PartID, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx, "BeginEvents", requestID); err != nil {
		return 0, err
	}
	rec, err := s.record(requestID)
	if err != nil {
		return 0, err
	}
	if err := ofType(rec, batch.Access, "BeginEvents"); err != nil {
		return 0, err
	}
	if err := open(rec); err != nil {
		return 0, fmt.Errorf("batchtest: BeginEvents: request %s: %w", requestID, err)
	}
	if eventName == "" {
		return 0, fmt.Errorf("batchtest: BeginEvents: request %s: empty event name", requestID)
	}
	for id, p := range s.parts {
		if p.requestID == requestID && p.name == eventName && !p.exported && p.runID != runID {
			delete(s.parts, id)
		}
	}
	s.lastPart++
	s.parts[s.lastPart] = &part{requestID: requestID, name: eventName, runID: runID}
	return s.lastPart, nil
}

// pending returns part id if it is pending and runID's.
func (s *Store) pending(op, runID string, id batch.PartID) (*part, error) {
	p, ok := s.parts[id]
	if !ok || p.exported || p.runID != runID {
		return nil, fmt.Errorf("batchtest: %s: part %d: %w", op, id, batch.ErrUnknownPart)
	}
	return p, nil
}

// AppendEvents adds each page to its part, all or none.
func (s *Store) AppendEvents(ctx context.Context, runID string, pages []batch.EventPage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx, "AppendEvents", ""); err != nil {
		return err
	}
	for _, pg := range pages {
		p, err := s.pending("AppendEvents", runID, pg.Part)
		if err != nil {
			return err
		}
		for _, e := range pg.Events {
			if e.EventName != p.name {
				return fmt.Errorf("batchtest: AppendEvents: request %s: event of %q in a part of %q", p.requestID, e.EventName, p.name)
			}
		}
	}
	for _, pg := range pages {
		p := s.parts[pg.Part]
		p.events = append(p.events, pg.Events...)
	}
	return nil
}

// FinishEvents exports each name as the union of its parts, all or none,
// and removes the name's other exported parts and other runs' pending
// ones.
func (s *Store) FinishEvents(ctx context.Context, runID string, exports []batch.EventExport) ([]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx, "FinishEvents", ""); err != nil {
		return nil, err
	}
	seen := map[[2]string]bool{}
	for _, x := range exports {
		if err := s.checkExport(runID, x, seen); err != nil {
			return nil, err
		}
	}
	counts := make([]int64, len(exports))
	for i, x := range exports {
		rec := s.reqs[x.RequestID]
		listed := map[batch.PartID]bool{}
		for j, xp := range x.Parts {
			if xp.ID == 0 {
				continue
			}
			listed[xp.ID] = true
			p := s.parts[xp.ID]
			for _, later := range x.Parts[j+1:] {
				p.events = slices.DeleteFunc(p.events, func(e batch.Event) bool {
					return !e.Time.Before(later.From) && e.Time.Before(later.To)
				})
			}
		}
		for id, p := range s.parts {
			if p.requestID == x.RequestID && p.name == x.EventName && (p.exported || p.runID != runID) && !listed[id] {
				delete(s.parts, id) // exported before and not any more, or left by another run
			}
		}
		var events []batch.Event
		for _, xp := range x.Parts {
			if p := s.parts[xp.ID]; p != nil {
				p.exported = true
				events = append(events, p.events...)
			}
		}
		rec.Names[x.EventName] = NameExport{Expected: x.Expected, Exported: int64(len(events))}
		rec.Events[x.EventName] = slices.Clone(events)
		touch(rec, runID)
		counts[i] = int64(len(events))
	}
	return counts, nil
}

// checkExport checks one export of FinishEvents before anything changes.
func (s *Store) checkExport(runID string, x batch.EventExport, seen map[[2]string]bool) error {
	rec, err := s.record(x.RequestID)
	if err != nil {
		return err
	}
	if err := ofType(rec, batch.Access, "FinishEvents"); err != nil {
		return err
	}
	if err := open(rec); err != nil {
		return fmt.Errorf("batchtest: FinishEvents: request %s: %w", x.RequestID, err)
	}
	if x.EventName == "" {
		return fmt.Errorf("batchtest: FinishEvents: request %s: empty event name", x.RequestID)
	}
	key := [2]string{x.RequestID, x.EventName}
	if seen[key] {
		return fmt.Errorf("batchtest: FinishEvents: request %s, name %q twice in one call", x.RequestID, x.EventName)
	}
	seen[key] = true
	listed := map[batch.PartID]bool{}
	for _, xp := range x.Parts {
		if xp.ID == 0 {
			continue
		}
		p, ok := s.parts[xp.ID]
		if !ok || listed[xp.ID] || p.requestID != x.RequestID || p.name != x.EventName || !p.exported && p.runID != runID {
			return fmt.Errorf("batchtest: FinishEvents: request %s, name %q: part %d: %w", x.RequestID, x.EventName, xp.ID, batch.ErrUnknownPart)
		}
		listed[xp.ID] = true
	}
	return nil
}

// DropEvents removes runID's pending parts among ids.
func (s *Store) DropEvents(ctx context.Context, runID string, ids []batch.PartID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx, "DropEvents", ""); err != nil {
		return err
	}
	for _, id := range ids {
		if p, ok := s.parts[id]; ok && !p.exported && p.runID == runID {
			delete(s.parts, id)
		}
	}
	return nil
}

// Held counts the events the parts of request id hold, exported or not.
func (s *Store) Held(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, p := range s.parts {
		if p.requestID == id {
			n += len(p.events)
		}
	}
	return n
}
