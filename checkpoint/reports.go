package checkpoint

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/batch/report"
)

var _ report.Source = (*Store)(nil)

// runSet selects the requests of a run's reports: those the run changed,
// and those of the manifests it read or attached.
const runSet = `WITH run_set AS (
	SELECT request_id FROM requests WHERE last_run_id = ?1
	UNION
	SELECT r.request_id FROM request_rows rr
		JOIN run_manifests rm ON rm.manifest_id = rr.manifest_id
		JOIN requests r ON r.req_id = rr.req_id WHERE rm.run_id = ?1)
`

// reportDetail is a request's detail as the reports show it: a pending
// request whose last attempt failed says so.
func reportDetail(st batch.Status, detail string, attempts int, errClass, errMsg string) string {
	if st == batch.StatusPending && errMsg != "" {
		return fmt.Sprintf("attempt %d failed (%s): %s; the next run tries again", attempts, errClass, errMsg)
	}
	return detail
}

// ReportRequests renders requests.parquet rows in request-ID order.
func (s *Store) ReportRequests(ctx context.Context, runID string, fn func(report.RequestRow) error) error {
	q := runSet + `SELECT r.request_id, r.request_type, r.email, r.user_id, r.state, r.detail, r.attempts,
		r.last_error_class, r.last_error,
		CASE WHEN r.request_type = 'access'
			THEN (SELECT count(*) FROM access_profiles p WHERE p.request_id = r.request_id)
			ELSE coalesce((SELECT d.profiles FROM deletions d WHERE d.request_id = r.request_id), 0) END,
		coalesce((SELECT sum(n.exported) FROM access_event_names n WHERE n.request_id = r.request_id), 0),
		r.submitted_at, r.due_at, r.completed_at
		FROM requests r JOIN run_set USING (request_id) ORDER BY r.request_id`
	return s.each(ctx, "requests report", q, runID, func(rows *sql.Rows) error {
		var (
			row                       report.RequestRow
			st                        batch.Status
			attempts                  int
			errClass, errMsg          string
			submitted, due, completed sql.NullInt64
		)
		if err := rows.Scan(&row.RequestID, &row.RequestType, &row.Email, &row.UserID, &st, &row.Detail,
			&attempts, &errClass, &errMsg, &row.ProfilesFound, &row.EventsExported, &submitted, &due, &completed); err != nil {
			return err
		}
		row.Status = st.Report()
		row.Detail = reportDetail(st, row.Detail, attempts, errClass, errMsg)
		row.SubmittedAt, row.DueAt, row.CompletedAt = timePtr(submitted), timePtr(due), timePtr(completed)
		return fn(row)
	})
}

// ReportProfiles renders access_profiles.parquet rows of finished access
// requests.
func (s *Store) ReportProfiles(ctx context.Context, runID string, fn func(report.ProfileRow) error) error {
	q := runSet + `SELECT p.request_id, p.matched_by, p.object_ids, p.identity, p.email, p.name, p.phone,
		p.profile_data_json, p.event_summary_json, p.platform_info_json, p.retrieved_at
		FROM access_profiles p JOIN run_set USING (request_id) JOIN requests r ON r.request_id = p.request_id
		WHERE r.state = 'done' ORDER BY p.request_id, p.ordinal`
	return s.each(ctx, "access profiles report", q, runID, func(rows *sql.Rows) error {
		var (
			row report.ProfileRow
			ids string
			at  int64
		)
		if err := rows.Scan(&row.RequestID, &row.MatchedBy, &ids, &row.Identity, &row.Email, &row.Name, &row.Phone,
			&row.ProfileDataJSON, &row.EventSummaryJSON, &row.PlatformInfoJSON, &at); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(ids), &row.ObjectIDs); err != nil {
			return fmt.Errorf("request %s: object ids: %w", row.RequestID, err)
		}
		row.RetrievedAt = time.UnixMicro(at).UTC()
		return fn(row)
	})
}

// ReportEvents renders access_events.parquet rows of finished access
// requests, by request and time.
func (s *Store) ReportEvents(ctx context.Context, runID string, fn func(report.EventRow) error) error {
	q := runSet + `SELECT e.request_id, e.object_id, e.identity, e.email, e.event_name, e.event_time,
		e.event_props_json, e.session_props_json
		FROM access_events e JOIN run_set USING (request_id) JOIN requests r ON r.request_id = e.request_id
		WHERE r.state = 'done' ORDER BY e.request_id, e.event_time, e.event_name, e.seq`
	return s.each(ctx, "access events report", q, runID, func(rows *sql.Rows) error {
		var (
			row report.EventRow
			at  int64
		)
		if err := rows.Scan(&row.RequestID, &row.ObjectID, &row.Identity, &row.Email, &row.EventName, &at,
			&row.EventPropsJSON, &row.SessionPropsJSON); err != nil {
			return err
		}
		row.EventTime = time.UnixMicro(at).UTC()
		return fn(row)
	})
}

// ReportDeletions renders deletion_report.parquet rows in request-ID order.
func (s *Store) ReportDeletions(ctx context.Context, runID string, fn func(report.DeletionRow) error) error {
	q := runSet + `SELECT r.request_id, r.email, r.user_id, r.state, r.detail, r.attempts, r.last_error_class,
		r.last_error, coalesce(d.object_ids, '[]'),
		d.delete_requested_at, CASE WHEN r.state = 'verified' THEN r.completed_at END,
		coalesce(d.checks, 0), d.last_checked_at
		FROM requests r JOIN run_set USING (request_id) LEFT JOIN deletions d ON d.request_id = r.request_id
		WHERE r.request_type = 'deletion' ORDER BY r.request_id`
	return s.each(ctx, "deletion report", q, runID, func(rows *sql.Rows) error {
		var (
			row                       report.DeletionRow
			st                        batch.Status
			attempts                  int
			errClass, errMsg, ids     string
			requested, verified, last sql.NullInt64
		)
		if err := rows.Scan(&row.RequestID, &row.Email, &row.UserID, &st, &row.Detail, &attempts, &errClass, &errMsg,
			&ids, &requested, &verified, &row.Checks, &last); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(ids), &row.ObjectIDs); err != nil {
			return fmt.Errorf("request %s: object ids: %w", row.RequestID, err)
		}
		row.Status = st.Report()
		row.Detail = reportDetail(st, row.Detail, attempts, errClass, errMsg)
		row.DeleteRequestedAt, row.VerifiedAt, row.LastCheckedAt = timePtr(requested), timePtr(verified), timePtr(last)
		return fn(row)
	})
}

// ReportRejects renders rejects.parquet rows of the run's manifests.
func (s *Store) ReportRejects(ctx context.Context, runID string, fn func(report.RejectRow) error) error {
	return s.Rejects(ctx, runID, func(r batch.Reject) error { return fn(report.RejectRowOf(r)) })
}

// each runs a read-only query with the run id and calls scan per row.
func (s *Store) each(ctx context.Context, what, q, runID string, scan func(*sql.Rows) error) error {
	rows, err := s.rdb.QueryContext(ctx, q, runID)
	if err != nil {
		return fmt.Errorf("read %s of run %s: %w", what, runID, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("read %s of run %s: %w", what, runID, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s of run %s: %w", what, runID, err)
	}
	return nil
}

func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMicro(v.Int64).UTC()
	return &t
}
