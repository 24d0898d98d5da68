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
const requestCols = 12

// The statements every import batch runs. Full chunks recur, so they are
// prepared once per Store (before any transaction: the writer has one
// connection) and bound to each batch's transaction.
var (
	insertQuery = insertSQL(chunkRows)
	lookupQuery = lookupSQL(chunkRows)
	// missingQuery lists the keys in [?1, ?2] no request has: the rows of
	// a chunk that were not inserted.
	missingQuery = `WITH RECURSIVE k(id) AS (SELECT ?1 UNION ALL SELECT id + 1 FROM k WHERE id < ?2)
		SELECT id FROM k WHERE NOT EXISTS (SELECT 1 FROM requests WHERE req_id = k.id)`
	rejectQuery = `INSERT INTO rejects (manifest_id, source_file, source_row, request_id, column_name,
		reason, run_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	importQueries = []string{insertQuery, lookupQuery, missingQuery, rejectQuery}
)

func insertSQL(n int) string {
	return `INSERT INTO requests (req_id, request_id, request_type, email, user_id, submitted_at,
		due_at, content_hash, source_row, manifest_id, created_at, updated_at) VALUES ` +
		placeholders(n, requestCols) + " ON CONFLICT (request_id) DO NOTHING"
}

func lookupSQL(n int) string {
	return `SELECT r.req_id, r.request_id, r.content_hash, m.path, r.source_row, r.manifest_id
		FROM requests r JOIN manifests m ON m.manifest_id = r.manifest_id
		WHERE r.request_id IN (` + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

// importWriter writes one import batch inside its transaction.
type importWriter struct {
	shared     map[string]*sql.Stmt // prepared on the writer, by query text
	tx         *sql.Tx
	manifestID int64
	runID      string
	now        int64
	nextReqID  int64 // requests append: the key the next new request gets

	stmts map[string]*sql.Stmt // this transaction's statements, by query text
	args  []any                // reused between chunks
}

func prepareImport(ctx context.Context, shared map[string]*sql.Stmt, tx *sql.Tx, manifestID int64, runID string, now int64) (*importWriter, error) {
	w := &importWriter{shared: shared, tx: tx, manifestID: manifestID, runID: runID, now: now,
		stmts: map[string]*sql.Stmt{}}
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

// stmt returns query ready in the transaction: bound from the shared
// statements when it is one, else prepared for this transaction.
func (w *importWriter) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := w.stmts[query]; ok {
		return st, nil
	}
	var st *sql.Stmt
	if shared, ok := w.shared[query]; ok {
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

// requests stores rs, whose content hashes are hashes, chunkRows at a
// time. Statements run under rowCtx; ctx is checked between chunks.
func (w *importWriter) requests(ctx, rowCtx context.Context, rs []batch.Request, hashes [][]byte, d *ImportResult) error {
	for len(rs) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(len(rs), chunkRows)
		if err := w.chunk(rowCtx, rs[:n], hashes[:n], d); err != nil {
			return fmt.Errorf("rows %d-%d: %w", rs[0].Source.Row, rs[n-1].Source.Row, err)
		}
		rs, hashes = rs[n:], hashes[n:]
	}
	return nil
}

// chunk inserts every row of rs whose request ID is new, row i with key
// first+i: the common case for a new manifest is that all are. Each row
// that was not inserted is looked up to tell whether it is this very row
// read before (unchanged), another row of a request with the same content
// (one more source: merged within this manifest, unchanged from another),
// or a request ID taken by other content (a conflict, stored as a reject).
func (w *importWriter) chunk(ctx context.Context, rs []batch.Request, hashes [][]byte, d *ImportResult) error {
	first := w.nextReqID
	w.nextReqID += int64(len(rs))
	inserted, err := w.insert(ctx, rs, hashes, first)
	if err != nil {
		return err
	}
	d.Added += inserted
	if inserted == len(rs) {
		return nil
	}
	missing, err := w.missing(ctx, first, first+int64(len(rs))-1)
	if err != nil {
		return err
	}
	if len(missing) != len(rs)-inserted {
		return fmt.Errorf("%d rows not inserted, but %d keys unused", len(rs)-inserted, len(missing))
	}
	others := make([]batch.Request, len(missing))
	for j, i := range missing {
		others[j] = rs[i]
	}
	seen, err := w.lookup(ctx, others)
	if err != nil {
		return err
	}
	var sources []any
	for _, i := range missing {
		r := rs[i]
		k, ok := seen[r.ID]
		switch {
		case !ok:
			return fmt.Errorf("request %s neither inserted nor found", r.ID)
		case !bytes.Equal(k.hash, hashes[i]):
			d.Conflicts++
			if err := w.reject(ctx, conflict(r, k.first)); err != nil {
				return err
			}
		case k.manifestID == w.manifestID && k.first.Row == r.Source.Row:
			d.Unchanged++ // this very row, read again
		default:
			if k.manifestID == w.manifestID {
				d.Merged++
			} else {
				d.Unchanged++
			}
			sources = append(sources, w.manifestID, r.Source.Row, k.reqID)
		}
	}
	if len(sources) == 0 {
		return nil
	}
	st, err := w.stmt(ctx, "INSERT INTO request_sources (manifest_id, source_row, req_id) VALUES "+
		placeholders(len(sources)/3, 3)+" ON CONFLICT DO NOTHING")
	if err != nil {
		return err
	}
	if _, err := st.ExecContext(ctx, sources...); err != nil {
		return fmt.Errorf("insert sources: %w", err)
	}
	return nil
}

// insert inserts the rows whose request ID is not in the ledger (nor
// earlier in rs), row i with key first+i, and says how many it inserted.
func (w *importWriter) insert(ctx context.Context, rs []batch.Request, hashes [][]byte, first int64) (int, error) {
	st, err := w.stmt(ctx, insertSQL(len(rs)))
	if err != nil {
		return 0, err
	}
	w.args = w.args[:0]
	for i, r := range rs {
		w.args = append(w.args, first+int64(i), r.ID, string(r.Type), r.Email, r.UserID, nullTime(r.SubmittedAt),
			nullTime(r.DueAt), hashes[i], r.Source.Row, w.manifestID, w.now, w.now)
	}
	res, err := st.ExecContext(ctx, w.args...)
	if err != nil {
		return 0, fmt.Errorf("insert requests: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("insert requests: %w", err)
	}
	return int(n), nil
}

// missing returns the offsets from lo of the keys in [lo, hi] that no
// request has.
func (w *importWriter) missing(ctx context.Context, lo, hi int64) ([]int, error) {
	st, err := w.stmt(ctx, missingQuery)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("find rows not inserted: %w", err)
	}
	defer rows.Close()
	var offsets []int
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("find rows not inserted: %w", err)
		}
		offsets = append(offsets, int(id-lo))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find rows not inserted: %w", err)
	}
	return offsets, nil
}

// known is what the ledger holds of a request, for matching a row.
type known struct {
	reqID      int64
	hash       []byte
	first      batch.SourceRef
	manifestID int64
}

// lookup returns what the ledger holds of the requests of rs, by ID.
func (w *importWriter) lookup(ctx context.Context, rs []batch.Request) (map[string]known, error) {
	st, err := w.stmt(ctx, lookupSQL(len(rs)))
	if err != nil {
		return nil, err
	}
	w.args = w.args[:0]
	for _, r := range rs {
		w.args = append(w.args, r.ID)
	}
	rows, err := st.QueryContext(ctx, w.args...)
	if err != nil {
		return nil, fmt.Errorf("look up requests: %w", err)
	}
	defer rows.Close()
	seen := make(map[string]known, len(rs))
	for rows.Next() {
		var k known
		var id string
		if err := rows.Scan(&k.reqID, &id, &k.hash, &k.first.File, &k.first.Row, &k.manifestID); err != nil {
			return nil, fmt.Errorf("look up requests: %w", err)
		}
		seen[id] = k
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up requests: %w", err)
	}
	return seen, nil
}

func (w *importWriter) reject(ctx context.Context, r batch.Reject) error {
	st, err := w.stmt(ctx, rejectQuery)
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
		Reason: fmt.Sprintf("request id already used at %s:%d with different content", first.File, first.Row),
	}
}

// placeholders is "(?, ?), (?, ?)" for rows rows of cols columns.
func placeholders(rows, cols int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}
