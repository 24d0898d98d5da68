package checkpoint_test

import (
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctdsr/ctdsr/checkpoint"
)

func TestOpenCreatesOwnerOnlyDirectoryAndFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "ctdsr")
	path := filepath.Join(dir, "ledger.db")
	st := mustOpen(t, path, checkpoint.Options{})
	mustBeginRun(t, st) // writes, so the WAL exists

	for _, c := range []struct {
		path string
		want os.FileMode
	}{
		{filepath.Dir(dir), 0o700},
		{dir, 0o700},
		{path, 0o600},
		{path + "-wal", 0o600},
		{path + "-shm", 0o600},
	} {
		if got := mode(t, c.path); got != c.want {
			t.Errorf("mode of %s = %v, want %v", c.path, got, c.want)
		}
	}
}

func TestOpenRestrictsAnExistingLedger(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	st := mustOpen(t, path, checkpoint.Options{})
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	mustOpen(t, path, checkpoint.Options{})
	if got := mode(t, path); got != 0o600 {
		t.Errorf("mode after reopening a 0644 ledger = %v, want 0600", got)
	}
}

func TestOpenMigratesAnEmptyFileOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	st := mustOpen(t, path, checkpoint.Options{})
	runID := mustBeginRun(t, st)
	mustImport(t, st, runID, manifestInfo("a.csv", "a"), nil, nil)
	if err := st.EndRun(t.Context(), runID, "ok"); err != nil {
		t.Fatal(err)
	}
	st.Close()

	migrations := rawInt(t, path, "SELECT count(*) FROM schema_migrations")
	if migrations == 0 {
		t.Fatal("no migration recorded")
	}
	for _, table := range []string{"runs", "ledger_lock", "manifests", "run_manifests", "requests", "request_sources", "rejects"} {
		if n := rawInt(t, path, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?", table); n != 1 {
			t.Errorf("table %s missing after migrating", table)
		}
	}
	if got := rawInt(t, path, "PRAGMA application_id"); got != 0x63746473 {
		t.Errorf("application_id = %#x, want 0x63746473", got)
	}

	st = mustOpen(t, path, checkpoint.Options{})
	if got := rawInt(t, path, "SELECT count(*) FROM schema_migrations"); got != migrations {
		t.Errorf("reopening recorded %d migrations, want %d (none again)", got, migrations)
	}
	c, err := st.Counts(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Runs != 1 || c.Manifests != 1 {
		t.Errorf("after reopening: %d runs, %d manifests; want the 1 and 1 written before", c.Runs, c.Manifests)
	}
}

func TestOpenRefusesWhatIsNotALedger(t *testing.T) {
	dir := t.TempDir()
	foreign := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", foreign)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me')"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	if err := os.Chmod(foreign, 0o644); err != nil {
		t.Fatal(err)
	}
	// Readable by others: Open must not narrow a file it refuses.
	text := filepath.Join(dir, "requests.csv")
	if err := os.WriteFile(text, []byte("request_id,email\nR1,a@example.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte("SQLite"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{foreign, text, short, dir} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			var before string
			if path != dir {
				before = fileSHA(t, path)
			}
			st, err := checkpoint.Open(t.Context(), path, checkpoint.Options{})
			if err == nil {
				st.Close()
				t.Fatalf("Open(%s) succeeded, want ErrNotLedger", path)
			}
			if !errors.Is(err, checkpoint.ErrNotLedger) {
				t.Fatalf("Open(%s) = %v, want ErrNotLedger", path, err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			if path == dir {
				return
			}
			if after := fileSHA(t, path); after != before {
				t.Errorf("Open changed %s", path)
			}
			if m := mode(t, path); m != 0o644 {
				t.Errorf("Open changed the mode of %s it refused to %v, want it left at 0644", path, m)
			}
			if n := strings.Count(err.Error(), path); n != 1 {
				t.Errorf("error %q names the file %d times, want once", err, n)
			}
			if _, err := os.Stat(path + "-wal"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Open left %s-wal behind (err %v)", path, err)
			}
		})
	}
}

func TestOpenRefusesALedgerFromANewerVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	mustOpen(t, path, checkpoint.Options{}).Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES ('9999_future.sql', 0)"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	st, err := checkpoint.Open(t.Context(), path, checkpoint.Options{})
	if err == nil {
		st.Close()
		t.Fatal("Open succeeded on a ledger with an unknown migration")
	}
	if !errors.Is(err, checkpoint.ErrNewerLedger) || !strings.Contains(err.Error(), "9999_future.sql") {
		t.Errorf("Open = %v, want ErrNewerLedger naming 9999_future.sql", err)
	}
}

func TestOpenMustExist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "ledger.db")
	st, err := checkpoint.Open(t.Context(), path, checkpoint.Options{MustExist: true})
	if err == nil {
		st.Close()
		t.Fatal("Open with MustExist created a ledger")
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open = %v, want an error wrapping fs.ErrNotExist", err)
	}
	if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open with MustExist created the directory (stat err %v)", err)
	}
}

func TestOpenPathWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "odd ?name#%20")
	path := filepath.Join(dir, "ledger.db")
	st := mustOpen(t, path, checkpoint.Options{})
	runID := mustBeginRun(t, st)
	mustImport(t, st, runID, manifestInfo("a.csv", "a"), nil, nil)
	if st.Path() != path {
		t.Errorf("Path() = %q, want %q", st.Path(), path)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("ledger not at %q: %v", path, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "ledger.db") {
			t.Errorf("unexpected file %q beside the ledger", e.Name())
		}
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	for _, opts := range []checkpoint.Options{{StaleLockAfter: -1}, {ImportBatch: -5}} {
		if st, err := checkpoint.Open(t.Context(), path, opts); err == nil {
			st.Close()
			t.Errorf("Open(%+v) succeeded, want an error", opts)
		}
	}
}
