package report

import (
	"github.com/ctdsr/ctdsr/batch"
)

// RejectsFile is the name of the rejects report in an output directory.
const RejectsFile = "rejects.parquet"

// RejectRow is one row of rejects.parquet: a manifest row (or, with
// source_row 0, a whole file) that did not become a request. Empty request
// ids and columns are written as nulls.
type RejectRow struct {
	SourceFile string `parquet:"source_file,dict"`
	SourceRow  int64  `parquet:"source_row"`
	RequestID  string `parquet:"request_id,optional"`
	Column     string `parquet:"column,optional,dict"`
	Reason     string `parquet:"reason"`
}

// RejectRowOf converts a domain reject to its report row.
func RejectRowOf(r batch.Reject) RejectRow {
	return RejectRow{SourceFile: r.SourceFile, SourceRow: int64(r.SourceRow),
		RequestID: r.RequestID, Column: r.Column, Reason: r.Reason}
}

// WriteRejects writes rows to path atomically. To stream rejects as they
// are found instead, use Create[RejectRow].
func WriteRejects(path string, rows []RejectRow) error {
	w, err := Create[RejectRow](path)
	if err != nil {
		return err
	}
	if err := w.Write(rows...); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}
