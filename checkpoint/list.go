package checkpoint

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ctdsr/ctdsr/batch"
)

// Lists `ctdsr status --list` can print, and the requests each holds.
var lists = map[string]string{
	"open":     "r.completed_at IS NULL",
	"overdue":  "r.completed_at IS NULL AND r.due_at < @now",
	"due-soon": "r.completed_at IS NULL AND r.due_at >= @now AND r.due_at < @soon",
	"late":     "(r.due_at IS NOT NULL AND coalesce(r.completed_at, @now) > r.due_at)",
	"conflict": "r.state = '" + string(batch.StatusConflict) + "'",
}

// ListNames are the names ListRequests accepts.
var ListNames = []string{"open", "overdue", "due-soon", "late", "conflict"}

// ListedRequest is one line of a request list.
type ListedRequest struct {
	ID          string
	Type        batch.RequestType
	Status      batch.Status
	DueAt       time.Time // zero when unknown
	CompletedAt time.Time // zero while open
	DaysOpen    int       // from submission (or loading) to completion, or to now
}

// ListRequests calls fn for every request of list (one of ListNames), the
// most urgent first: by due date, then request id. now and dueWithin say
// what is overdue and due soon.
func (s *Store) ListRequests(ctx context.Context, list string, now time.Time, dueWithin time.Duration, fn func(ListedRequest) error) error {
	cond, ok := lists[list]
	if !ok {
		return fmt.Errorf("list %q: want one of %v", list, ListNames)
	}
	q := `SELECT r.request_id, r.request_type, r.state, r.due_at, r.completed_at, ` + daysOpenSQL + `
		FROM requests r WHERE ` + cond + ` ORDER BY r.due_at IS NULL, r.due_at, r.request_id`
	args := []any{sql.Named("now", dbTime(now)), sql.Named("soon", dbTime(now.Add(dueWithin)))}
	return s.each(ctx, list+" list", q, args, func(rows *sql.Rows) error {
		var (
			r              ListedRequest
			due, completed sql.NullInt64
		)
		if err := rows.Scan(&r.ID, &r.Type, &r.Status, &due, &completed, &r.DaysOpen); err != nil {
			return err
		}
		r.DueAt, r.CompletedAt = goTime(due), goTime(completed)
		return fn(r)
	})
}
