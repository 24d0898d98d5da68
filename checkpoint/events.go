package checkpoint

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/ctdsr/ctdsr/batch"
)

// An event export is written in parts (access_event_parts, migration 0012):
// BeginEvents makes a pending part, AppendEvents writes pages of events
// into it, each page in a transaction of its own, and FinishEvents exports
// the name with its parts in one transaction. Until then the part is
// invisible: OpenWork reads access_event_names and the reports read only
// the events of exported parts. A run killed mid-export leaves pending
// parts behind, which the next export of the name removes (and a request
// that closes loses), so exporting a name again never duplicates it.

// BeginEvents starts a pending part of the export of (request, event
// name), after removing the pending parts other runs left for that name.
func (s *Store) BeginEvents(ctx context.Context, runID, requestID, eventName string) (batch.PartID, error) {
	var id batch.PartID
	err := s.inTx(ctx, runID, func(tx *sql.Tx) error {
		cur, err := currentOf(ctx, tx, requestID)
		if err != nil {
			return err
		}
		if err := cur.writable(batch.Access); err != nil {
			return err
		}
		if eventName == "" {
			return errors.New("empty event name")
		}
		if err := dropParts(ctx, tx, `request_id = ? AND event_name = ? AND exported = 0 AND run_id <> ?`,
			requestID, eventName, runID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO access_event_parts (request_id, event_name, run_id)
			VALUES (?, ?, ?)`, requestID, eventName, runID)
		if err != nil {
			return err
		}
		n, err := res.LastInsertId()
		id = batch.PartID(n)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("begin the export of %q for request %s: %w", eventName, requestID, err)
	}
	return id, nil
}

// partOf is what the ledger holds about one part.
type partOf struct {
	requestID, eventName string
	runID                sql.NullString
	exported             bool
}

// readPart reads part id, or fails with batch.ErrUnknownPart.
func readPart(ctx context.Context, tx *sql.Tx, id batch.PartID) (partOf, error) {
	var p partOf
	err := tx.QueryRowContext(ctx, `SELECT request_id, event_name, run_id, exported FROM access_event_parts
		WHERE part_id = ?`, int64(id)).Scan(&p.requestID, &p.eventName, &p.runID, &p.exported)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("part %d: %w", id, batch.ErrUnknownPart)
	}
	if err != nil {
		return p, fmt.Errorf("part %d: %w", id, err)
	}
	return p, nil
}

// AppendEvents writes each page's events into its part, in one
// transaction: every part must be pending and runID's, and every event of
// the part's name, or nothing is written.
func (s *Store) AppendEvents(ctx context.Context, runID string, pages []batch.EventPage) error {
	err := s.inTx(ctx, runID, func(tx *sql.Tx) error {
		insert, err := tx.PrepareContext(ctx, `INSERT INTO access_events (part_id, seq, request_id, event_name,
			object_id, identity, email, event_time, event_props_json, session_props_json)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer insert.Close()
		for _, pg := range pages {
			p, err := readPart(ctx, tx, pg.Part)
			if err != nil {
				return err
			}
			if p.exported || p.runID.String != runID {
				return fmt.Errorf("part %d: %w", pg.Part, batch.ErrUnknownPart)
			}
			var seq int64
			if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq) + 1, 0) FROM access_events WHERE part_id = ?`,
				int64(pg.Part)).Scan(&seq); err != nil {
				return err
			}
			for _, e := range pg.Events {
				if e.EventName != p.eventName {
					return fmt.Errorf("request %s: an event of %q in a part of %q", p.requestID, e.EventName, p.eventName)
				}
				if _, err := insert.ExecContext(ctx, int64(pg.Part), seq, p.requestID, p.eventName, e.ObjectID,
					e.Identity, e.Email, dbTime(e.Time), e.EventPropsJSON, e.SessionPropsJSON); err != nil {
					return err
				}
				seq++
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save exported events: %w", err)
	}
	return nil
}

// FinishEvents exports each name as the union of its parts, in one
// transaction: a name is exported whole or not at all, and when one export
// is refused none is made. Besides the parts the name was exported with
// before and no longer is, it removes the pending parts other runs left
// for the name.
func (s *Store) FinishEvents(ctx context.Context, runID string, exports []batch.EventExport) ([]int64, error) {
	counts := make([]int64, len(exports))
	err := s.inTx(ctx, runID, func(tx *sql.Tx) error {
		now := s.opts.Now()
		seen := map[[2]string]bool{}
		for i, x := range exports {
			if err := s.finish(ctx, tx, runID, x, seen, &counts[i]); err != nil {
				return fmt.Errorf("request %s, event name %q: %w", x.RequestID, x.EventName, err)
			}
			if err := touch(ctx, tx, runID, x.RequestID, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("save exported events: %w", err)
	}
	return counts, nil
}

// finish exports one name inside FinishEvents's transaction and sets
// *count to the events it holds.
func (s *Store) finish(ctx context.Context, tx *sql.Tx, runID string, x batch.EventExport, seen map[[2]string]bool, count *int64) error {
	cur, err := currentOf(ctx, tx, x.RequestID)
	if err != nil {
		return err
	}
	if err := cur.writable(batch.Access); err != nil {
		return err
	}
	if x.EventName == "" {
		return errors.New("empty event name")
	}
	key := [2]string{x.RequestID, x.EventName}
	if seen[key] {
		return errors.New("exported twice in one call")
	}
	seen[key] = true
	listed := []int64{}
	for _, xp := range x.Parts {
		if xp.ID == 0 {
			continue
		}
		p, err := readPart(ctx, tx, xp.ID)
		if err != nil {
			return err
		}
		if p.requestID != x.RequestID || p.eventName != x.EventName || !p.exported && p.runID.String != runID ||
			slices.Contains(listed, int64(xp.ID)) {
			return fmt.Errorf("part %d: %w", xp.ID, batch.ErrUnknownPart)
		}
		listed = append(listed, int64(xp.ID))
	}
	// Each part replaces the earlier parts' events in its range.
	for j, later := range x.Parts {
		if !later.From.Before(later.To) {
			continue
		}
		for _, earlier := range x.Parts[:j] {
			if earlier.ID == 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM access_events WHERE part_id = ? AND event_time >= ?
				AND event_time < ?`, int64(earlier.ID), dbTime(later.From), dbTime(later.To)); err != nil {
				return err
			}
		}
	}
	ids, err := json.Marshal(listed)
	if err != nil {
		return err
	}
	if err := dropParts(ctx, tx, `request_id = ? AND event_name = ? AND (exported = 1 OR run_id <> ?)
		AND part_id NOT IN (SELECT value FROM json_each(?))`, x.RequestID, x.EventName, runID, string(ids)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE access_event_parts SET exported = 1
		WHERE part_id IN (SELECT value FROM json_each(?))`, string(ids)); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM access_events
		WHERE part_id IN (SELECT value FROM json_each(?))`, string(ids)).Scan(count); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO access_event_names
		(request_id, event_name, expected, exported, done_at) VALUES (?, ?, ?, ?, ?)`,
		x.RequestID, x.EventName, x.Expected, *count, dbTime(s.opts.Now()))
	return err
}

// DropEvents removes the pending parts among ids that runID began, with
// their events; it leaves any other part alone.
func (s *Store) DropEvents(ctx context.Context, runID string, ids []batch.PartID) error {
	list, err := json.Marshal(ids)
	if err != nil {
		return fmt.Errorf("drop parts of event exports: %w", err)
	}
	err = s.inTx(ctx, runID, func(tx *sql.Tx) error {
		return dropParts(ctx, tx, `part_id IN (SELECT value FROM json_each(?)) AND exported = 0 AND run_id = ?`,
			string(list), runID)
	})
	if err != nil {
		return fmt.Errorf("drop parts of event exports: %w", err)
	}
	return nil
}

// dropParts removes the parts that match cond (a condition on
// access_event_parts with args), with their events.
func dropParts(ctx context.Context, tx *sql.Tx, cond string, args ...any) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM access_events WHERE part_id IN
		(SELECT part_id FROM access_event_parts WHERE `+cond+`)`, args...); err != nil {
		return fmt.Errorf("remove the events of parts: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM access_event_parts WHERE `+cond, args...); err != nil {
		return fmt.Errorf("remove parts: %w", err)
	}
	return nil
}
