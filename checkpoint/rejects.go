package checkpoint

import (
	"context"
	"fmt"

	"github.com/ctdsr/ctdsr/batch"
)

// Rejects calls fn for every reject of the manifests the run read or
// attached, in manifest then row order. It reads through the read-only
// pool; an error from fn stops it and is returned as is.
func (s *Store) Rejects(ctx context.Context, runID string, fn func(batch.Reject) error) error {
	rows, err := s.rdb.QueryContext(ctx, `SELECT j.source_file, j.source_row, j.request_id, j.column_name, j.reason
		FROM run_manifests rm JOIN rejects j ON j.manifest_id = rm.manifest_id
		WHERE rm.run_id = ? ORDER BY rm.attached_at, j.manifest_id, j.source_row, j.reject_id`, runID)
	if err != nil {
		return fmt.Errorf("read rejects of run %s: %w", runID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r batch.Reject
		if err := rows.Scan(&r.SourceFile, &r.SourceRow, &r.RequestID, &r.Column, &r.Reason); err != nil {
			return fmt.Errorf("read rejects of run %s: %w", runID, err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read rejects of run %s: %w", runID, err)
	}
	return nil
}
