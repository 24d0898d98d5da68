// Package report writes ctdsr's Parquet reports: a generic atomic writer for
// any row type, the row types of a run's files (requests, access profiles
// and events, deletions, rejects), WriteRun, which renders them all from a
// Source such as the checkpoint ledger, and WriteJSON for summary.json.
//
// Files are written the way a compliance tool must: to a temporary file in
// the target directory (mode 0600), in bounded row groups so memory stays
// flat whatever the row count, then flushed, fsynced and renamed into place.
// A reader never sees a half-written report, and an aborted run leaves the
// previous one intact.
//
// Row types are Go structs with parquet tags. Create checks the schema
// before anything is written and refuses what downstream tools trip on:
// timestamps must be `timestamp(microsecond)` and UTC (DuckDB reads them as
// TIMESTAMP WITH TIME ZONE; Spark 3 rejects NANOS, the default for
// time.Time), and JSON payloads must be plain strings rather than the JSON
// logical type (one invalid value makes DuckDB refuse the whole file).
// Slices tagged `list` become real Parquet LISTs. A tag parquet-go cannot
// parse is an error from Create, not a panic.
//
// No Writer is safe for concurrent use; each file has one owner goroutine.
// WriteRun writes its files one after the other from one goroutine.
package report
