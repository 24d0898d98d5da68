-- 0007: what a ledger remembers between runs about the account it serves,
-- e.g. its timezone once given (account_timezone).
CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL,
    set_at INTEGER NOT NULL,
    run_id TEXT REFERENCES runs (run_id)
) STRICT, WITHOUT ROWID;
