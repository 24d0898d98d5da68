package checkpoint

import (
	"database/sql"
	"time"
)

// Every time is stored as INTEGER microseconds since the Unix epoch (UTC):
// compact, cheap to bind, and it compares and sorts as a number. Times are
// kept to the microsecond, as in the Parquet reports. In the sqlite3 shell,
// datetime(x / 1000000, 'unixepoch') shows one.

// dbTime renders t for a NOT NULL column.
func dbTime(t time.Time) int64 { return t.UnixMicro() }

// nullTime renders t for a nullable column: the zero time is NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// goTime reads a stored time; NULL is the zero time.
func goTime(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}
