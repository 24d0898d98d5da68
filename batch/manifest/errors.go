package manifest

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors a FileError wraps, so callers and tests can tell the kinds
// of unreadable manifest apart with errors.Is.
var (
	ErrUnsupported   = errors.New("unsupported file")          // unknown extension, binary or mislabelled content
	ErrEmpty         = errors.New("file is empty")             // no header at all
	ErrNoRows        = errors.New("no data rows")              // a header but nothing under it
	ErrMissingColumn = errors.New("missing required column")   // a required column is absent
	ErrDuplicateCol  = errors.New("duplicate column")          // two columns mean the same thing
	ErrColumnType    = errors.New("column has the wrong type") // Parquet column of an unusable type
	ErrMalformed     = errors.New("malformed file")            // broken quoting, truncated or corrupt data
	ErrNoSheet       = errors.New("no such sheet")             // --sheet names a sheet the workbook lacks
)

// FileError is a problem with a whole manifest: it cannot be read, or not
// trusted. Its message is one line naming the file, and the row and column
// when the problem is about one of them. Callers map it to exit code 2:
//
//	var fe *manifest.FileError
//	if errors.As(err, &fe) { … }
type FileError struct {
	Path   string // as given by the caller
	Row    int    // spreadsheet row (header = 1); 0 when not about one row
	Column string // canonical or header column name; empty when not about one
	Err    error
}

func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Row > 0 {
		b.WriteString(": row ")
		b.WriteString(strconv.Itoa(e.Row))
	}
	if e.Column != "" {
		b.WriteString(": column ")
		b.WriteString(e.Column)
	}
	b.WriteString(": ")
	b.WriteString(oneLine(e.Err.Error()))
	return b.String()
}

func (e *FileError) Unwrap() error { return e.Err }

// oneLine folds line breaks so a message stays on one line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}
