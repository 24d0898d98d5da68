package checkpoint

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// applicationID marks a SQLite file as a ctdsr ledger ("ctds"); migration
// 0001 sets it.
const applicationID = 0x63746473

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// createFile creates the ledger's directory (0700) and file (0600) when
// missing. With mustExist it only checks that the file is there.
func createFile(path string, mustExist bool) error {
	if mustExist {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("no ledger: %w", err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return fmt.Errorf("create file: %w", err)
		}
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("create file: %w", err)
	}
	return nil
}

// tightenAll narrows an existing ledger, and its WAL and shared-memory
// files, to owner-only access: the ledger holds personal data. It runs
// after probe, so a file that is not a ledger keeps its mode.
func tightenAll(path string, log *slog.Logger) error {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if err := tighten(path+suffix, log); err != nil {
			return err
		}
	}
	return nil
}

// tighten makes an existing regular file owner-only; a missing one is fine.
func tighten(name string, log *slog.Logger) error {
	fi, err := os.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check permissions: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", ErrNotLedger, filepath.Base(name))
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		if err := os.Chmod(name, perm&0o700); err != nil {
			return fmt.Errorf("restrict permissions: %w", err)
		}
		log.Warn("ledger file was readable by others; restricted to its owner",
			"file", name, "was", perm.String(), "now", (perm & 0o700).String())
	}
	return nil
}

// probe refuses a file that is not a ctdsr ledger before anything writes to
// it: not SQLite at all, or SQLite holding tables but not our application
// id. An empty file, or an empty database, is a new ledger.
func probe(ctx context.Context, path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("inspect: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: it is not a regular file", ErrNotLedger)
	}
	head, err := readHead(path, len(sqliteMagic))
	if err != nil {
		return fmt.Errorf("read header: %w", err)
	}
	if len(head) == 0 {
		return nil
	}
	if !bytes.Equal(head, sqliteMagic) {
		return fmt.Errorf("%w: the file is not an SQLite database", ErrNotLedger)
	}
	db, err := sql.Open("sqlite", dsn(path, readerParams))
	if err != nil {
		return fmt.Errorf("open for inspection: %w", err)
	}
	defer db.Close()
	var appID, tables int64
	if err := db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return fmt.Errorf("inspect application_id: %w", err)
	}
	if appID == applicationID {
		return nil
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
		return fmt.Errorf("inspect schema: %w", err)
	}
	if appID != 0 || tables != 0 {
		return fmt.Errorf("%w: the SQLite database belongs to another application (application_id %#x, %d schema objects)",
			ErrNotLedger, appID, tables)
	}
	return nil
}

// readHead reads up to n bytes from the start of the file.
func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	m, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:m], nil
}

// verifyApplicationID checks, after migrating, that the file is marked as a
// ledger.
func verifyApplicationID(ctx context.Context, db *sql.DB) error {
	var appID int64
	if err := db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return fmt.Errorf("read application_id: %w", err)
	}
	if appID != applicationID {
		return fmt.Errorf("%w: application_id is %#x after migrating", ErrNotLedger, appID)
	}
	return nil
}
