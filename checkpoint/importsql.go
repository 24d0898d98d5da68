package checkpoint

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/ctdsr/ctdsr/batch"
)

// chunkRows is how many rows one multi-row statement carries: the driver's
// cost per statement is several times SQLite's cost per row.
const chunkRows = 100

// requestCols are the columns an import writes, in bind order.
const requestCols = 13

// importWriter writes one import batch inside its transaction.
type importWriter struct {
	s          *Store
	tx         *sql.Tx
	manifestID int64
	runID      string
	now        int64
	nextReqID  int64 // requests append: the key the next new request gets

	stmts map[string]*sql.Stmt // this transaction's statements, by query text
}

func prepareImport(ctx context.Context, s *Store, tx *sql.Tx, manifestID int64, runID string, now int64) (*importWriter, error) {
	w := &importWriter{s: s, tx: tx, manifestID: manifestID, runID: runID, now: now, stmts: map[string]*sql.Stmt{}}
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(req_id), 0) + 1 FROM requests").Scan(&w.nextReqID); err != nil {
		return nil, fmt.Errorf("read next request key: %w", err)
	}
	return w, nil
}

func (w *importWriter) close() {
	for _, st := range w.stmts {
		st.Close()
	}
}

// stmt returns query prepared in the transaction. A query that recurs
// across batches (a full chunk's) is prepared once per Store and reused.
func (w *importWriter) stmt(ctx context.Context, query string, recurs bool) (*sql.Stmt, error) {
	if st, ok := w.stmts[query]; ok {
		return st, nil
	}
	var st *sql.Stmt
	if recurs {
		shared, err := w.s.prepared(ctx, query)
		if err != nil {
			return nil, err
		}
		st = w.tx.StmtContext(ctx, shared)
	} else {
		var err error
		if st, err = w.tx.PrepareContext(ctx, query); err != nil {
			return nil, fmt.Errorf("prepare import: %w", err)
		}
	}
	w.stmts[query] = st
	return st, nil
}

// known is what the ledger holds of a request, for matching a new row.
type known struct {
	reqID      int64 // 0 until inserted
	hash       []byte
	first      batch.SourceRef
	manifestID int64
}

// requests stores rs, chunkRows at a time: each row becomes a new request
// (its first source), one more source of a request with the same content,
// or a conflict reject when its ID is taken by other content. A row already
// recorded adds nothing. Statements run under rowCtx;
// ctx is checked between chunks.
func (w *importWriter) requests(ctx, rowCtx context.Context, rs []batch.Request, d *ImportResult) error {
	for len(rs) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(len(rs), chunkRows)
		if err := w.chunk(rowCtx, rs[:n], d); err != nil {
			return fmt.Errorf("rows %d-%d: %w", rs[0].Source.Row, rs[n-1].Source.Row, err)
		}
		rs = rs[n:]
	}
	return nil
}

func (w *importWriter) chunk(ctx context.Context, rs []batch.Request, d *ImportResult) error {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	full := len(rs) == chunkRows
	seen, err := w.lookup(ctx, ids, full)
	if err != nil {
		return err
	}
	type source struct {
		row int
		id  string
	}
	var (
		fresh   []batch.Request
		sources []source
		hashes  = make(map[string][]byte, len(rs))
	)
	for _, r := range rs {
		h, err := contentHash(r)
		if err != nil {
			return err
		}
		k, ok := seen[r.ID]
		if !ok {
			seen[r.ID] = &known{hash: h, first: r.Source, manifestID: w.manifestID}
			fresh = append(fresh, r)
			hashes[r.ID] = h
			d.Added++
			continue
		}
		if !bytes.Equal(k.hash, h) {
			d.Conflicts++
			if err := w.reject(ctx, conflict(r, k.first)); err != nil {
				return err
			}
			continue
		}
		sameManifest := k.manifestID == w.manifestID
		if sameManifest && k.first.Row == r.Source.Row {
			d.Unchanged++ // this very row, read again
			continue
		}
		if sameManifest {
			d.Merged++
		} else {
			d.Unchanged++
		}
		sources = append(sources, source{r.Source.Row, r.ID})
	}
	if err := w.insert(ctx, fresh, hashes, seen, full && len(fresh) == chunkRows); err != nil {
		return err
	}
	if len(sources) == 0 {
		return nil
	}
	args := make([]any, 0, 3*len(sources))
	for _, s := range sources {
		args = append(args, w.manifestID, s.row, seen[s.id].reqID)
	}
	st, err := w.stmt(ctx, "INSERT INTO request_sources (manifest_id, source_row, req_id) VALUES "+
		placeholders(len(sources), 3)+" ON CONFLICT DO NOTHING", false)
	if err != nil {
		return err
	}
	if _, err := st.ExecContext(ctx, args...); err != nil {
		return fmt.Errorf("insert sources: %w", err)
	}
	return nil
}

// lookup returns what the ledger holds of the requests with these IDs.
func (w *importWriter) lookup(ctx context.Context, ids []string, recurs bool) (map[string]*known, error) {
	st, err := w.stmt(ctx, `SELECT req_id, request_id, content_hash, source_file, source_row, manifest_id
		FROM requests WHERE request_id IN (`+strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")+")", recurs)
	if err != nil {
		return nil, err
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("look up requests: %w", err)
	}
	defer rows.Close()
	seen := make(map[string]*known, len(ids))
	for rows.Next() {
		var k known
		var id string
		if err := rows.Scan(&k.reqID, &id, &k.hash, &k.first.File, &k.first.Row, &k.manifestID); err != nil {
			return nil, fmt.Errorf("look up requests: %w", err)
		}
		seen[id] = &k
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up requests: %w", err)
	}
	return seen, nil
}

// insert appends new requests, giving each the next key, and records the
// key in seen.
func (w *importWriter) insert(ctx context.Context, rs []batch.Request, hashes map[string][]byte, seen map[string]*known, recurs bool) error {
	if len(rs) == 0 {
		return nil
	}
	st, err := w.stmt(ctx, `INSERT INTO requests (req_id, request_id, request_type, email, user_id, submitted_at,
		due_at, content_hash, source_file, source_row, manifest_id, created_at, updated_at) VALUES `+
		placeholders(len(rs), requestCols), recurs)
	if err != nil {
		return err
	}
	args := make([]any, 0, requestCols*len(rs))
	for _, r := range rs {
		seen[r.ID].reqID = w.nextReqID
		args = append(args, w.nextReqID, r.ID, string(r.Type), r.Email, r.UserID, nullTime(r.SubmittedAt),
			nullTime(r.DueAt), hashes[r.ID], r.Source.File, r.Source.Row, w.manifestID, w.now, w.now)
		w.nextReqID++
	}
	if _, err := st.ExecContext(ctx, args...); err != nil {
		return fmt.Errorf("insert requests: %w", err)
	}
	return nil
}

func (w *importWriter) reject(ctx context.Context, r batch.Reject) error {
	st, err := w.stmt(ctx, `INSERT INTO rejects (manifest_id, source_file, source_row, request_id, column_name,
		reason, run_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, true)
	if err != nil {
		return err
	}
	if _, err := st.ExecContext(ctx, w.manifestID, r.SourceFile, r.SourceRow, r.RequestID,
		r.Column, r.Reason, w.runID, w.now); err != nil {
		return fmt.Errorf("insert reject: %w", err)
	}
	return nil
}

// contentHash is r.ContentHash as the 32 bytes the ledger stores.
func contentHash(r batch.Request) ([]byte, error) {
	h, err := hex.DecodeString(r.ContentHash())
	if err != nil || len(h) != 32 {
		return nil, fmt.Errorf("request %s: content hash is not a hex SHA-256", r.ID)
	}
	return h, nil
}

// conflict is the reject for a row whose request ID the ledger holds with
// other content, first read at first.
func conflict(r batch.Request, first batch.SourceRef) batch.Reject {
	return batch.Reject{
		SourceFile: r.Source.File, SourceRow: r.Source.Row, RequestID: r.ID, Column: "request_id",
		Reason: fmt.Sprintf("request id %s already in the ledger with different content (first read at %s:%d)",
			r.ID, first.File, first.Row),
	}
}

// placeholders is "(?, ?), (?, ?)" for rows rows of cols columns.
func placeholders(rows, cols int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}
