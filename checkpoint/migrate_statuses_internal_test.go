package checkpoint

import (
	"database/sql"
	"log/slog"
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
	db, err := sql.Open("sqlite", dsn(path, writerParams))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	log := slog.New(slog.DiscardHandler)
	now := func() time.Time { return time.Unix(1, 0) }
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
