package checkpoint

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"strings"
	"time"
)

// migrationFiles holds the schema, one numbered file per step. A released
// migration is never edited; a change is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrate applies, in name order, each migrations/*.sql in fsys not yet
// recorded in schema_migrations: one transaction per file, recorded in that
// same transaction, so a failed step leaves no trace and the next Open
// retries it. A ledger that records a migration this build does not have
// was written by a newer ctdsr and is refused.
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS, now func() time.Time, log *slog.Logger) error {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	slices.Sort(names)
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    TEXT PRIMARY KEY,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	applied, err := appliedMigrations(ctx, db)
	if err != nil {
		return err
	}
	known := make(map[string]bool, len(names))
	for _, name := range names {
		known[path.Base(name)] = true
	}
	for _, v := range applied {
		if !known[v] {
			return fmt.Errorf("%w: it has migration %s, which this build does not know; use a newer ctdsr",
				ErrNewerLedger, v)
		}
	}
	for _, name := range names {
		if slices.Contains(applied, path.Base(name)) {
			continue
		}
		if err := applyMigration(ctx, db, fsys, name, now()); err != nil {
			return err
		}
		log.Info("ledger migrated", "migration", path.Base(name))
	}
	return nil
}

func appliedMigrations(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	var vs []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	return vs, nil
}

// foreignKeysOff is the first line of a migration that rebuilds a table
// other tables refer to (SQLite's twelve-step ALTER, to drop a CHECK, say):
// it runs with foreign-key enforcement off on its connection, and checks
// every reference with PRAGMA foreign_key_check before it commits.
const foreignKeysOff = "-- ctdsr:foreign-keys-off"

// applyMigration runs one file and records it in one transaction. It checks
// again inside the transaction, so two processes opening a new ledger at
// once apply each step exactly once.
func applyMigration(ctx context.Context, db *sql.DB, fsys fs.FS, name string, at time.Time) error {
	version := path.Base(name)
	body, err := fs.ReadFile(fsys, name)
	if err != nil {
		return fmt.Errorf("migration %s: read: %w", version, err)
	}
	conn, err := db.Conn(ctx) // the pragma and the transaction must share it
	if err != nil {
		return fmt.Errorf("migration %s: connect: %w", version, err)
	}
	defer conn.Close()
	rebuild := strings.HasPrefix(string(body), foreignKeysOff)
	if rebuild {
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
			return fmt.Errorf("migration %s: foreign keys off: %w", version, err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON")
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: begin: %w", version, err)
	}
	defer tx.Rollback()
	var done int
	if err := tx.QueryRowContext(ctx,
		"SELECT count(*) FROM schema_migrations WHERE version = ?", version).Scan(&done); err != nil {
		return fmt.Errorf("migration %s: check: %w", version, err)
	}
	if done > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("migration %s: apply: %w", version, err)
	}
	if rebuild {
		if err := foreignKeyCheck(ctx, tx); err != nil {
			return fmt.Errorf("migration %s: %w", version, err)
		}
	}
	if _, err := tx.ExecContext(ctx,
		"INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", version, dbTime(at)); err != nil {
		return fmt.Errorf("migration %s: record: %w", version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: commit: %w", version, err)
	}
	return nil
}

// foreignKeyCheck fails when any reference is broken.
func foreignKeyCheck(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return fmt.Errorf("foreign key check: %w", err)
	}
	defer rows.Close()
	if rows.Next() {
		var table string
		var rowid sql.NullInt64
		var parent string
		var fkid int
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return fmt.Errorf("foreign key check: %w", err)
		}
		return fmt.Errorf("foreign key check: a row of %s refers to a missing row of %s", table, parent)
	}
	return rows.Err()
}
