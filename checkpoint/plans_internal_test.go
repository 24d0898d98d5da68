package checkpoint

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch/report"
)

// The queries a million-request ledger runs often seek their indexes:
// none scans the requests table, and a run's page of open work does not
// walk the open requests before its cursor (SQLite scans an index from its
// start for a row-value comparison such as (due, key) > (?, ?), which a run
// leaving its deletions open would pay on every page).
func TestQueriesSeekTheirIndexes(t *testing.T) {
	s := mustOpenInternal(t, filepath.Join(t.TempDir(), "ledger.db"), Options{})
	with, member, args := selected(report.Selection{RunID: "r", Now: time.Now(), ClosedSince: time.Now()})
	for _, q := range []struct {
		name  string
		query string
		args  []any
		want  []string // plan lines that must appear
	}{
		{"open work page", openWorkPage + selectRequest + ` WHERE r.req_id IN page
			ORDER BY coalesce(r.due_at, ` + noDue + `), r.req_id LIMIT ?3`, []any{1, 2, 500},
			[]string{"SEARCH requests USING COVERING INDEX requests_open (<expr>=? AND req_id>?)",
				"SEARCH requests USING COVERING INDEX requests_open (<expr>>?)"}},
		{"open work page of one type", openWorkPageOf + selectRequest + ` WHERE r.req_id IN page
			ORDER BY coalesce(r.due_at, ` + noDue + `), r.req_id LIMIT ?3`, []any{1, 2, 500, "deletion"},
			[]string{"SEARCH requests USING INDEX requests_open (<expr>=? AND req_id>?)",
				"SEARCH requests USING INDEX requests_open (<expr>>?)"}},
		{"report selection", with + `SELECT count(*) FROM requests r WHERE ` + member, args,
			[]string{"COVERING INDEX requests_open", "requests_completed (completed_at>?)", "requests_last_run (last_run_id=?)"}},
		{"purge", `SELECT request_id FROM requests
			WHERE completed_at IS NOT NULL AND completed_at < ? AND purged_at IS NULL`, []any{1},
			[]string{"requests_completed"}},
		{"resweep due", resweepDueSQL, []any{"verified", 1, 100},
			[]string{"SEARCH r USING INDEX requests_state_completed (state=? AND completed_at<?)"}},
		{"count open", countOpenSQL, []any{1, 2}, []string{"COVERING INDEX requests_open"}},
	} {
		plan := explain(t, s.rdb, q.query, q.args...)
		for _, line := range plan {
			if line == "SCAN r" || line == "SCAN requests" || strings.HasPrefix(line, "SCAN requests USING INDEX requests_open") {
				t.Errorf("%s: %q in the plan:\n  %s", q.name, line, strings.Join(plan, "\n  "))
			}
		}
		for _, w := range q.want {
			if !containsLine(plan, w) {
				t.Errorf("%s: no %q in the plan:\n  %s", q.name, w, strings.Join(plan, "\n  "))
			}
		}
	}
}

func explain(t *testing.T, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

func containsLine(plan []string, part string) bool {
	for _, line := range plan {
		if strings.Contains(line, part) {
			return true
		}
	}
	return false
}
