package checkpoint

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"
)

// Evidence hashes the ledger keeps of a purged request: the hex SHA-256 of
// its email (trimmed, Unicode NFC, lower-case, as compared everywhere) and
// of its user id (as given). An auditor holding an email can check it
// against the hash; the hash alone does not give the email back.
func emailSHA256(email string) string {
	if email == "" {
		return ""
	}
	return sha256Hex(strings.ToLower(norm.NFC.String(strings.TrimSpace(email))))
}

func sha256Hex(s string) string {
	if s == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Purge removes the personal data of the requests closed before
// closedBefore: their emails and user ids (kept as SHA-256 evidence), the
// profiles and events an access request exported, and the identities a
// deletion sent. What stays is the request id, type, status, dates, detail,
// objectIds and the history. The run must hold the ledger. Vacuum
// afterwards to shrink the file.
func (s *Store) Purge(ctx context.Context, runID string, closedBefore time.Time) (int, error) {
	n := 0
	err := s.inTx(ctx, runID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT request_id, email, user_id FROM requests
			WHERE completed_at IS NOT NULL AND completed_at < ? AND purged_at IS NULL`, dbTime(closedBefore))
		if err != nil {
			return err
		}
		type victim struct{ id, email, userID string }
		var todo []victim
		for rows.Next() {
			var v victim
			if err := rows.Scan(&v.id, &v.email, &v.userID); err != nil {
				rows.Close()
				return err
			}
			todo = append(todo, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		now := dbTime(s.opts.Now())
		for _, v := range todo {
			for _, q := range []string{
				"DELETE FROM access_events WHERE request_id = ?",
				"DELETE FROM access_event_parts WHERE request_id = ?",
				"DELETE FROM access_event_names WHERE request_id = ?",
				"DELETE FROM access_profiles WHERE request_id = ?",
				"UPDATE deletions SET identities = '[]' WHERE request_id = ?",
			} {
				if _, err := tx.ExecContext(ctx, q, v.id); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE requests SET email = '', user_id = '', email_sha256 = ?,
				user_id_sha256 = ?, purged_at = ?, updated_at = ? WHERE request_id = ?`,
				emailSHA256(v.email), sha256Hex(v.userID), now, now, v.id); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge: %w", err)
	}
	return n, nil
}

// Vacuum rewrites the ledger file without the space freed pages hold and
// truncates its write-ahead log, so removed data leaves the disk and the
// file shrinks. The run must hold the ledger; nothing else may write.
func (s *Store) Vacuum(ctx context.Context, runID string) error {
	if err := s.inTx(ctx, runID, func(*sql.Tx) error { return nil }); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	for _, q := range []string{"VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("vacuum: %s: %w", q, err)
		}
	}
	return nil
}
