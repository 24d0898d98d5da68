package checkpoint

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// SettingTimezone is the key of the account's timezone (an IANA name),
// remembered once a run was given it and the data did not contradict it.
const SettingTimezone = "account_timezone"

// Setting returns what the ledger remembers under key; false when nothing.
func (s *Store) Setting(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.rdb.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read setting %s: %w", key, err)
	}
	return v, true, nil
}

// SetSetting makes the ledger remember value under key. The run must hold
// the ledger.
func (s *Store) SetSetting(ctx context.Context, runID, key, value string) error {
	err := s.inTx(ctx, runID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, set_at, run_id) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, set_at = excluded.set_at, run_id = excluded.run_id`,
			key, value, dbTime(s.opts.Now()), runID)
		return err
	})
	if err != nil {
		return fmt.Errorf("remember %s: %w", key, err)
	}
	return nil
}
