package checkpoint

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/batch/report"
)

var _ report.Source = (*Store)(nil)

// never is a completion time no request has: "closed since never" selects
// no closed request.
const never = math.MaxInt64

// selected renders a report selection as a WITH clause defining sel, the
// req_ids selected, and a condition on requests r testing membership, with
// their named arguments (@now is always among them, for late and
// days_open).
//
// Every part of sel is read through an index (TestQueriesSeekTheirIndexes
// checks the plans): the open requests through requests_open, those closed
// since the window's start through requests_completed; what the run
// changed through requests_last_run; the
// rows of the manifests it read or attached through requests_manifest and
// request_sources; a manifest's the same way; named requests through the
// request_id index. The reports then walk requests in request-id order
// (its unique index) and keep the members: no sort, whatever the size.
func selected(sel report.Selection) (with, member string, args []any) {
	since := int64(never)
	if !sel.ClosedSince.IsZero() {
		since = dbTime(sel.ClosedSince)
	}
	args = []any{sql.Named("now", dbTime(sel.Now)), sql.Named("since", since)}
	var parts []string
	switch {
	case sel.All:
		return "", "1", args
	case sel.ManifestSHA256 != "":
		parts = []string{`SELECT rr.req_id FROM request_rows rr JOIN manifests m ON m.manifest_id = rr.manifest_id WHERE m.sha256 = @sha`}
		args = append(args, sql.Named("sha", sel.ManifestSHA256))
	case len(sel.RequestIDs) > 0:
		ids, _ := json.Marshal(sel.RequestIDs) // strings always marshal
		parts = []string{`SELECT req_id FROM requests WHERE request_id IN (SELECT value FROM json_each(@ids))`}
		args = append(args, sql.Named("ids", string(ids)))
	default:
		parts = []string{
			`SELECT req_id FROM requests WHERE completed_at IS NULL`,
			`SELECT req_id FROM requests WHERE completed_at >= @since`,
			`SELECT req_id FROM requests WHERE last_run_id = @run`,
			`SELECT rr.req_id FROM request_rows rr JOIN run_manifests rm ON rm.manifest_id = rr.manifest_id WHERE rm.run_id = @run`,
		}
		args = append(args, sql.Named("run", sel.RunID))
	}
	// UNION ALL: each part seeks its own index (a UNION merges parts in
	// key order, which SQLite gets by scanning the table); a request in
	// two parts is still selected once.
	with = "WITH sel(req_id) AS (" + strings.Join(parts, " UNION ALL ") + ") "
	// The unary + keeps the planner walking requests in request-id order
	// rather than sorting the selection.
	member = "+r.req_id IN (SELECT req_id FROM sel)"
	if sel.Explicit() && !sel.ClosedSince.IsZero() {
		member += " AND (r.completed_at IS NULL OR r.completed_at >= @since)"
	}
	return with, member, args
}

// purgedSQL renders what a purged request keeps as evidence, for its
// detail: when, and the SHA-256 of its email and user id.
const purgedSQL = `CASE WHEN r.purged_at IS NULL THEN '' ELSE
	'; personal data purged on ' || strftime('%Y-%m-%d', r.purged_at / 1000000, 'unixepoch') ||
	CASE WHEN r.email_sha256 <> '' THEN '; email SHA-256 ' || r.email_sha256 ELSE '' END ||
	CASE WHEN r.user_id_sha256 <> '' THEN '; user id SHA-256 ' || r.user_id_sha256 ELSE '' END END`

// lateSQL and daysOpenSQL compute a request's lateness against @now: late
// when completed after its due date, or open past it; days open from its
// submission (else from when the ledger learnt of it) to its completion,
// else to @now.
const (
	lateSQL     = `(r.due_at IS NOT NULL AND coalesce(r.completed_at, @now) > r.due_at)`
	daysOpenSQL = `max(0, (coalesce(r.completed_at, @now) - coalesce(r.submitted_at, r.created_at)) / 86400000000)`
)

// reportDetail is a request's detail as the reports show it: a pending
// request whose last attempt failed says so, and a deletion's notes (what
// --on-conflict union deleted despite) follow its detail.
func reportDetail(st batch.Status, detail string, attempts int, errClass, errMsg, notes string) string {
	if st == batch.StatusPending && errMsg != "" {
		detail = fmt.Sprintf("attempt %d failed (%s): %s; the next run tries again", attempts, errClass, errMsg)
	}
	if notes = strings.TrimPrefix(notes, "; "); notes != "" {
		detail = strings.TrimPrefix(detail+"; "+notes, "; ")
	}
	return detail
}

// ReportRequests renders requests.parquet rows in request-ID order.
func (s *Store) ReportRequests(ctx context.Context, sel report.Selection, fn func(report.RequestRow) error) error {
	with, cond, args := selected(sel)
	q := with + `SELECT r.request_id, r.request_type, r.email, r.user_id, r.state, r.detail, r.attempts,
		r.last_error_class, r.last_error,
		CASE WHEN r.request_type = 'access'
			THEN (SELECT count(*) FROM access_profiles p WHERE p.request_id = r.request_id)
			ELSE coalesce((SELECT d.profiles FROM deletions d WHERE d.request_id = r.request_id), 0) END,
		coalesce((SELECT sum(n.exported) FROM access_event_names n WHERE n.request_id = r.request_id), 0),
		r.submitted_at, r.due_at, r.completed_at,
		coalesce((SELECT d.notes FROM deletions d WHERE d.request_id = r.request_id), ''),
		` + lateSQL + `, ` + daysOpenSQL + `, ` + purgedSQL + `
		FROM requests r WHERE ` + cond + ` ORDER BY r.request_id`
	return s.each(ctx, "requests report", q, args, func(rows *sql.Rows) error {
		var (
			row                       report.RequestRow
			st                        batch.Status
			attempts                  int
			errClass, errMsg, notes   string
			purged                    string
			submitted, due, completed sql.NullInt64
		)
		if err := rows.Scan(&row.RequestID, &row.RequestType, &row.Email, &row.UserID, &st, &row.Detail,
			&attempts, &errClass, &errMsg, &row.ProfilesFound, &row.EventsExported, &submitted, &due, &completed, &notes,
			&row.Late, &row.DaysOpen, &purged); err != nil {
			return err
		}
		row.Status = st.Report()
		row.Detail = reportDetail(st, row.Detail, attempts, errClass, errMsg, notes+purged)
		row.SubmittedAt, row.DueAt, row.CompletedAt = timePtr(submitted), timePtr(due), timePtr(completed)
		return fn(row)
	})
}

// ReportProfiles renders access_profiles.parquet rows of finished access
// requests.
func (s *Store) ReportProfiles(ctx context.Context, sel report.Selection, fn func(report.ProfileRow) error) error {
	with, cond, args := selected(sel)
	q := with + `SELECT p.request_id, p.matched_by, p.object_ids, p.identity, p.email, p.name, p.phone,
		p.profile_data_json, p.event_summary_json, p.platform_info_json, p.retrieved_at
		FROM requests r JOIN access_profiles p ON p.request_id = r.request_id
		WHERE r.state = 'done' AND ` + cond + ` ORDER BY p.request_id, p.ordinal`
	return s.each(ctx, "access profiles report", q, args, func(rows *sql.Rows) error {
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
// requests, the events of exported parts only, by request, event name and
// the canonical order of a name's events: time, objectId, the properties,
// then the rest, whatever order CleverTap returned them in (the pages of
// an export are written as they come, so the order is the report's to
// make). The index access_events_order holds them by request, name, time
// and objectId.
func (s *Store) ReportEvents(ctx context.Context, sel report.Selection, fn func(report.EventRow) error) error {
	with, cond, args := selected(sel)
	q := with + `SELECT e.request_id, e.object_id, e.identity, e.email, e.event_name, e.event_time,
		e.event_props_json, e.session_props_json
		FROM requests r JOIN access_events e ON e.request_id = r.request_id
		WHERE r.state = 'done' AND ` + cond + ` AND e.part_id IN
			(SELECT p.part_id FROM access_event_parts p WHERE p.request_id = r.request_id AND p.exported)
		ORDER BY e.request_id, e.event_name, e.event_time, e.object_id, e.event_props_json,
			e.session_props_json, e.identity, e.email`
	return s.each(ctx, "access events report", q, args, func(rows *sql.Rows) error {
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
func (s *Store) ReportDeletions(ctx context.Context, sel report.Selection, fn func(report.DeletionRow) error) error {
	with, cond, args := selected(sel)
	q := with + `SELECT r.request_id, r.email, r.user_id, r.state, r.detail, r.attempts, r.last_error_class,
		r.last_error, coalesce(d.object_ids, '[]'),
		d.delete_requested_at, CASE WHEN r.state = 'verified' THEN r.completed_at END,
		coalesce(d.checks, 0), d.last_checked_at, coalesce(d.notes, ''), ` + purgedSQL + `
		FROM requests r LEFT JOIN deletions d ON d.request_id = r.request_id
		WHERE r.request_type = 'deletion' AND ` + cond + ` ORDER BY r.request_id`
	return s.each(ctx, "deletion report", q, args, func(rows *sql.Rows) error {
		var (
			row                       report.DeletionRow
			st                        batch.Status
			attempts                  int
			errClass, errMsg, ids     string
			notes, purged             string
			requested, verified, last sql.NullInt64
		)
		if err := rows.Scan(&row.RequestID, &row.Email, &row.UserID, &st, &row.Detail, &attempts, &errClass, &errMsg,
			&ids, &requested, &verified, &row.Checks, &last, &notes, &purged); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(ids), &row.ObjectIDs); err != nil {
			return fmt.Errorf("request %s: object ids: %w", row.RequestID, err)
		}
		row.Status = st.Report()
		row.Detail = reportDetail(st, row.Detail, attempts, errClass, errMsg, notes+purged)
		row.DeleteRequestedAt, row.VerifiedAt, row.LastCheckedAt = timePtr(requested), timePtr(verified), timePtr(last)
		return fn(row)
	})
}

// rejectCurrent holds for a reject j that is not settled: a reject whose
// request id came in later as a valid request (the row was fixed and
// handed in again) is.
const rejectCurrent = `NOT EXISTS (SELECT 1 FROM requests q
	WHERE j.request_id <> '' AND q.request_id = j.request_id AND q.created_at > j.created_at)`

// rejectsSelected renders a selection as a condition on rejects j. The
// default view is the rejects of the manifests the run read or attached,
// and those recorded since the window's start; a reject whose request id
// came in later as a request (the row was fixed and handed in again) is
// settled and left out, except with All.
func rejectsSelected(sel report.Selection) (string, []any) {
	since := int64(never)
	if !sel.ClosedSince.IsZero() {
		since = dbTime(sel.ClosedSince)
	}
	args := []any{sql.Named("since", since)}
	const current = " AND " + rejectCurrent
	switch {
	case sel.All:
		return "1", args
	case sel.ManifestSHA256 != "":
		args = append(args, sql.Named("sha", sel.ManifestSHA256))
		return "j.manifest_id = (SELECT manifest_id FROM manifests WHERE sha256 = @sha)" + current, args
	case len(sel.RequestIDs) > 0:
		ids, _ := json.Marshal(sel.RequestIDs)
		args = append(args, sql.Named("ids", string(ids)))
		return "j.request_id IN (SELECT value FROM json_each(@ids))" + current, args
	}
	args = append(args, sql.Named("run", sel.RunID))
	return `(j.manifest_id IN (SELECT manifest_id FROM run_manifests WHERE run_id = @run) OR j.created_at >= @since)` + current, args
}

// ReportRejects renders rejects.parquet rows, in manifest then row order.
func (s *Store) ReportRejects(ctx context.Context, sel report.Selection, fn func(report.RejectRow) error) error {
	cond, args := rejectsSelected(sel)
	q := `SELECT j.source_file, j.source_row, j.request_id, j.column_name, j.reason FROM rejects j
		WHERE ` + cond + ` ORDER BY j.manifest_id, j.source_row, j.reject_id`
	return s.each(ctx, "rejects report", q, args, func(rows *sql.Rows) error {
		var r batch.Reject
		if err := rows.Scan(&r.SourceFile, &r.SourceRow, &r.RequestID, &r.Column, &r.Reason); err != nil {
			return err
		}
		return fn(report.RejectRowOf(r))
	})
}

// each runs a read-only query and calls scan per row.
func (s *Store) each(ctx context.Context, what, q string, args []any, scan func(*sql.Rows) error) error {
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("read %s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", what, err)
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
