package checkpoint

import (
	"database/sql"
	"io/fs"
	"log/slog"
	"path"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"
	"time"
)

// A ledger written before migration 0003 stored a deletion closed by
// --deletion-complete-on submit as delete_submitted with a completion
// time. The migration gives it its own status and leaves the open ones
// (no completion time) as they were.
func TestMigration0003MakesTheHiddenStatusExplicit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	db, log, now := rawLedger(t, path)
	old := fstest.MapFS{}
	for _, name := range []string{"0001_ledger.sql", "0002_run_state.sql"} {
		old["migrations/"+name] = &fstest.MapFile{Data: mustReadMigration(t, name)}
	}
	if err := migrate(t.Context(), db, old, now, log); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO runs (run_id, started_at, args, tool_version, pid, hostname) VALUES ('r', 0, '[]', 'old', 1, 'h')`,
		`INSERT INTO manifests (manifest_id, sha256, path, format, first_run_id, created_at) VALUES (1, printf('%064d', 0), 'm.csv', 'csv', 'r', 0)`,
		`INSERT INTO requests (request_id, request_type, email, content_hash, source_row, manifest_id, created_at, updated_at, state, completed_at)
			VALUES ('closed', 'deletion', 'a@example.com', zeroblob(32), 2, 1, 0, 0, 'delete_submitted', 5),
			       ('verifying', 'deletion', 'b@example.com', zeroblob(32), 3, 1, 0, 0, 'delete_submitted', NULL),
			       ('done', 'access', 'c@example.com', zeroblob(32), 4, 1, 0, 0, 'done', 7)`,
	} {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := migrate(t.Context(), db, migrationFiles, now, log); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(t.Context(), "SELECT request_id || ' ' || state FROM requests ORDER BY request_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	want := []string{"closed delete_accepted", "done done", "verifying delete_submitted"}
	if !slices.Equal(got, want) {
		t.Errorf("after migration 0003: %q, want %q", got, want)
	}
}

// migrateBefore applies the ledger's migrations numbered below first, as
// an older version of ctdsr left its ledgers.
func migrateBefore(t *testing.T, db *sql.DB, log *slog.Logger, now func() time.Time, first string) {
	t.Helper()
	old := fstest.MapFS{}
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if path.Base(name) < first {
			old[name] = &fstest.MapFile{Data: mustReadMigration(t, path.Base(name))}
		}
	}
	if err := migrate(t.Context(), db, old, now, log); err != nil {
		t.Fatal(err)
	}
}

// Migration 0009 rebuilds requests (to drop a CHECK): every row of it and
// of the tables that refer to it survives, references still hold, and
// foreign keys are enforced again afterwards.
func TestMigration0009KeepsEverything(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ledger.db")
	db, log, now := rawLedger(t, file)
	migrateBefore(t, db, log, now, "0009")
	for _, q := range []string{
		`INSERT INTO runs (run_id, started_at, args, tool_version, pid, hostname) VALUES ('r', 0, '[]', 'old', 1, 'h')`,
		`INSERT INTO manifests (manifest_id, sha256, path, format, first_run_id, created_at) VALUES (1, printf('%064d', 0), 'm.csv', 'csv', 'r', 0)`,
		`INSERT INTO requests (req_id, request_id, request_type, email, content_hash, source_row, manifest_id, created_at, updated_at, state, last_run_id)
			VALUES (7, 'A1', 'access', 'a@example.com', zeroblob(32), 2, 1, 0, 0, 'done', 'r'),
			       (8, 'D1', 'deletion', 'd@example.com', zeroblob(32), 3, 1, 0, 0, 'verified', 'r')`,
		`INSERT INTO request_sources (manifest_id, source_row, req_id) VALUES (1, 9, 7)`,
		`INSERT INTO access_profiles (request_id, ordinal, matched_by, object_ids, profile_data_json, event_summary_json, platform_info_json, retrieved_at)
			VALUES ('A1', 0, 'email', '["g"]', '{}', '{}', '[]', 0)`,
		`INSERT INTO access_event_names (request_id, event_name, expected, exported, done_at) VALUES ('A1', 'E', 1, 1, 0)`,
		`INSERT INTO access_events (request_id, event_name, seq, object_id, event_time, event_props_json, session_props_json)
			VALUES ('A1', 'E', 0, 'g', 0, '{}', '{}')`,
		`INSERT INTO deletions (request_id, object_ids, identities, profiles, planned_at) VALUES ('D1', '["g2"]', '[]', 1, 0)`,
		`INSERT INTO request_history (request_id, at, run_id, from_state, to_state) VALUES ('D1', 0, 'r', 'pending', 'verified')`,
	} {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := migrate(t.Context(), db, migrationFiles, now, log); err != nil {
		t.Fatal(err)
	}
	count := func(q string) int {
		var n int
		if err := db.QueryRowContext(t.Context(), q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	for q, want := range map[string]int{
		"SELECT count(*) FROM requests WHERE req_id IN (7, 8)":                            2,
		"SELECT count(*) FROM request_rows":                                               3,
		"SELECT count(*) FROM access_profiles JOIN requests USING (request_id)":           1,
		"SELECT count(*) FROM access_events":                                              1,
		"SELECT count(*) FROM deletions JOIN requests USING (request_id)":                 1,
		"SELECT count(*) FROM request_history":                                            1,
		"SELECT count(*) FROM pragma_foreign_key_check":                                   0,
		"SELECT foreign_keys FROM pragma_foreign_keys":                                    1,
		"SELECT count(*) FROM pragma_index_list('requests') WHERE name LIKE 'requests_%'": 5, // and 0010's
	} {
		if got := count(q); got != want {
			t.Errorf("after 0009: %s = %d, want %d", q, got, want)
		}
	}
	// The CHECK now allows a purged request without email or user id.
	if _, err := db.ExecContext(t.Context(), `UPDATE requests SET email = '', purged_at = 1 WHERE req_id = 7`); err != nil {
		t.Errorf("purging a request after 0009: %v", err)
	}
	if _, err := db.ExecContext(t.Context(), `UPDATE requests SET email = '' WHERE req_id = 8`); err == nil {
		t.Error("a request that is not purged lost its email and user id")
	}
}

// rawLedger opens path as the writer does, without migrating it, for a
// test that applies migrations itself; with a silent logger and a fixed
// clock.
func rawLedger(t *testing.T, path string) (*sql.DB, *slog.Logger, func() time.Time) {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path, writerParams))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	return db, slog.New(slog.DiscardHandler), func() time.Time { return time.Unix(1, 0) }
}

// Migration 0012 puts events in parts: every name exported before becomes
// one exported part holding its events, in their order, so the reports
// and OpenWork see what they saw before.
func TestMigration0012MakesExportedParts(t *testing.T) {
	db, log, now := rawLedger(t, filepath.Join(t.TempDir(), "ledger.db"))
	migrateBefore(t, db, log, now, "0012")
	for _, q := range []string{
		`INSERT INTO runs (run_id, started_at, args, tool_version, pid, hostname) VALUES ('r', 0, '[]', 'old', 1, 'h')`,
		`INSERT INTO manifests (manifest_id, sha256, path, format, first_run_id, created_at) VALUES (1, printf('%064d', 0), 'm.csv', 'csv', 'r', 0)`,
		`INSERT INTO requests (req_id, request_id, request_type, email, content_hash, source_row, manifest_id, created_at, updated_at, state)
			VALUES (1, 'A1', 'access', 'a@example.com', zeroblob(32), 2, 1, 0, 0, 'done'),
			       (2, 'A2', 'access', 'b@example.com', zeroblob(32), 3, 1, 0, 0, 'pending')`,
		`INSERT INTO access_event_names (request_id, event_name, expected, exported, done_at)
			VALUES ('A1', 'E', 2, 2, 0), ('A1', 'F', 1, 0, 0), ('A2', 'E', 1, 1, 0)`,
		`INSERT INTO access_events (request_id, event_name, seq, object_id, event_time, event_props_json, session_props_json)
			VALUES ('A1', 'E', 0, 'g', 5, '{"n":0}', '{}'), ('A1', 'E', 1, 'g', 7, '{"n":1}', '{}'),
			       ('A2', 'E', 0, 'h', 3, '{}', '{}')`,
	} {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := migrate(t.Context(), db, migrationFiles, now, log); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(t.Context(), `SELECT p.request_id || ' ' || p.event_name || ' ' || p.exported || ' ' ||
		coalesce(p.run_id, '-') || ' ' || coalesce(group_concat(e.seq || ':' || e.event_props_json, ','), '')
		FROM access_event_parts p LEFT JOIN access_events e ON e.part_id = p.part_id
		AND e.request_id = p.request_id AND e.event_name = p.event_name
		GROUP BY p.part_id ORDER BY p.request_id, p.event_name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{`A1 E 1 - 0:{"n":0},1:{"n":1}`, "A1 F 1 - ", "A2 E 1 - 0:{}"}
	if !slices.Equal(got, want) {
		t.Errorf("parts after 0012:\n got %q\nwant %q", got, want)
	}
	for q, want := range map[string]int{
		"SELECT count(*) FROM access_events":                                                                  3,
		"SELECT count(*) FROM pragma_foreign_key_check":                                                       0,
		"SELECT count(*) FROM sqlite_schema WHERE name IN ('access_events_order', 'access_event_parts_name')": 2,
	} {
		var n int
		if err := db.QueryRowContext(t.Context(), q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if n != want {
			t.Errorf("after 0012: %s = %d, want %d", q, n, want)
		}
	}
}
