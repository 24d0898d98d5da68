package checkpoint

import (
	"database/sql"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestConnectionsHaveTheirPragmas(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "ledger.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, p := range []struct {
		name, want string
	}{{"journal_mode", "wal"}, {"foreign_keys", "1"}, {"busy_timeout", "5000"}, {"synchronous", "2"}, {"temp_store", "2"}} {
		var got string
		if err := s.db.QueryRowContext(t.Context(), "PRAGMA "+p.name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != p.want {
			t.Errorf("writer PRAGMA %s = %s, want %s", p.name, got, p.want)
		}
	}
	if _, err := s.rdb.ExecContext(t.Context(), "INSERT INTO schema_migrations VALUES ('x', 0)"); err == nil {
		t.Error("the read-only pool wrote to the ledger")
	} else if !strings.Contains(err.Error(), "readonly") {
		t.Errorf("write through the read-only pool failed with %v, want a read-only error", err)
	}
}

func TestMigrationsApplyOnePerTransaction(t *testing.T) {
	db, err := sql.Open("sqlite", dsn(filepath.Join(t.TempDir(), "ledger.db"), writerParams))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	log := slog.New(slog.DiscardHandler)
	now := func() time.Time { return time.Unix(1, 0) }
	fsys := fstest.MapFS{
		"migrations/0001_ledger.sql": &fstest.MapFile{Data: mustReadMigration(t, "0001_ledger.sql")},
		"migrations/0002_ok.sql":     &fstest.MapFile{Data: []byte("CREATE TABLE two (x INTEGER);")},
		"migrations/0003_bad.sql": &fstest.MapFile{Data: []byte(
			"CREATE TABLE three (x INTEGER); INSERT INTO two VALUES (1); THIS IS NOT SQL;")},
	}
	err = migrate(t.Context(), db, fsys, now, log)
	if err == nil || !strings.Contains(err.Error(), "0003_bad.sql") {
		t.Fatalf("migrate = %v, want an error naming 0003_bad.sql", err)
	}
	count := func(q string) int {
		var n int
		if err := db.QueryRowContext(t.Context(), q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count("SELECT count(*) FROM schema_migrations WHERE version = '0002_ok.sql'"); n != 1 {
		t.Errorf("0002 recorded %d times, want 1", n)
	}
	if n := count("SELECT count(*) FROM schema_migrations WHERE version = '0003_bad.sql'"); n != 0 {
		t.Errorf("failed 0003 recorded %d times, want 0", n)
	}
	if n := count("SELECT count(*) FROM sqlite_schema WHERE name = 'three'"); n != 0 {
		t.Error("failed 0003 left its table behind")
	}
	if n := count("SELECT count(*) FROM two"); n != 0 {
		t.Error("failed 0003 left its row behind")
	}

	fsys["migrations/0003_bad.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE three (x INTEGER);")}
	if err := migrate(t.Context(), db, fsys, now, log); err != nil {
		t.Fatalf("migrate after fixing 0003: %v", err)
	}
	if n := count("SELECT count(*) FROM schema_migrations"); n != 3 {
		t.Errorf("%d migrations recorded, want 3", n)
	}
}

func mustReadMigration(t *testing.T, name string) []byte {
	t.Helper()
	b, err := migrationFiles.ReadFile("migrations/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDSNEscapesURICharacters(t *testing.T) {
	got := dsn("/tmp/a?b#c%d", "mode=ro")
	want := "file:/tmp/a%3Fb%23c%25d?mode=ro"
	if got != want {
		t.Errorf("dsn = %q, want %q", got, want)
	}
}
