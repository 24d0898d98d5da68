// Package report writes what ctdsr hands back: the Parquet reports of a
// run, a workbook for people (report.xlsx), and one access package per
// finished access request (access/<request>.zip).
//
// # Parquet reports
//
// A generic atomic writer for any row type, the row types of a run's files
// (requests, access profiles and events, deletions, rejects), WriteRun,
// which renders them all from a Source such as the checkpoint ledger, and
// WriteJSON for summary.json.
//
// Row types are Go structs with parquet tags. Create checks the schema
// before anything is written and refuses what downstream tools trip on:
// timestamps must be `timestamp(microsecond)` and UTC (DuckDB reads them as
// TIMESTAMP WITH TIME ZONE; Spark 3 rejects NANOS, the default for
// time.Time), and JSON payloads must be plain strings rather than the JSON
// logical type (one invalid value makes DuckDB refuse the whole file).
// Slices tagged `list` become real Parquet LISTs. A tag parquet-go cannot
// parse is an error from Create, not a panic. Row groups are bounded, so
// memory stays flat whatever the row count.
//
// # The workbook
//
// CreateWorkbook streams report.xlsx with excelize: a Summary sheet (the
// caller's label/value rows, then row counts), then Requests, Deletions and
// Rejects, one row per RequestRow, DeletionRow and RejectRow, added in that
// order. Columns are typed — dates are Excel dates in UTC, shown
// yyyy-mm-dd hh:mm:ss under headers that say "(UTC)"; counts are numbers;
// flags are TRUE/FALSE — and each data sheet has a bold, frozen header row
// with an autofilter over its rows, and set column widths. Emails and user
// ids are left out: the request id is the key to the ledger. A section
// longer than an Excel sheet (MaxSheetRows) continues on "Requests (2)"
// and so on, and the Summary says where.
//
// # Access packages
//
// WriteAccessPackage writes one zip per access request — profile.json,
// events.csv, events.json and README.txt — to be sent to that data subject
// alone: it refuses a profile or event of another request. Events are
// streamed twice from the caller's source, once per events file, and never
// held in memory together; the two passes must agree. PackageName is the
// package's file name: an escaping of the request id that no id can turn
// into a path, a hidden file or a device name.
//
// # No formulas from data
//
// Whatever a value holds, nothing this package writes makes a spreadsheet
// run it: workbook strings are text cells (inline strings in the Text
// format, never formulas), and CSV cells that begin with =, +, -, @, tab or
// carriage return get a leading apostrophe (OWASP's advice for CSV).
//
// # Files
//
// Every file is written the way a compliance tool must: to a temporary
// entry in the target directory named ".<name>.<random>.tmp" (a file, mode
// 0600, or for the workbook a directory, 0700, that also holds excelize's
// spill files), then flushed, fsynced and renamed into place, and the
// directory fsynced. A reader never sees a half-written file, and a failed or
// aborted write leaves the previous one intact and no temporary entry
// behind. A killed process can leave one; its name says what it was.
//
// No writer is safe for concurrent use; each file has one owner goroutine.
// WriteRun writes its files one after the other from one goroutine.
package report
