package manifest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ctdsr/ctdsr/batch"
)

// Format is a manifest file format.
type Format string

// The formats Read understands.
const (
	CSV     Format = "csv"
	Parquet Format = "parquet"
	XLSX    Format = "xlsx"
)

// Options tune Read. The zero value is ready to use.
type Options struct {
	// Sheet is the workbook sheet to read; empty means the first sheet.
	// Ignored for CSV and Parquet.
	Sheet string
	// Location reads dates written without a zone; nil means UTC.
	Location *time.Location
	// Dedup spans several manifests of one invocation: a request id seen in
	// an earlier file is merged or rejected against it. Nil gives each Read
	// a fresh Deduper, so duplicates are still caught within the file.
	Dedup *Deduper
	// NoDedup delivers every valid row as a request, repeated ids
	// included, and keeps no Deduper: for a caller that deduplicates
	// exactly by itself (the ledger's import does, without holding a
	// million ids in memory). Dedup is ignored.
	NoDedup bool
}

// Row is one data row of a manifest after validation: exactly one of
// Request and Reject is set.
type Row struct {
	Source  batch.SourceRef
	Request *batch.Request
	Reject  *batch.Reject
	// Duplicate is set when Request repeats, with identical content, a
	// request read earlier (it points there). The row is merged into that
	// request: callers that record requests skip it.
	Duplicate *batch.SourceRef
}

// Info describes a manifest after Read: what it was, how its header was
// understood and where its rows went. Rows == Accepted + Merged + Rejected.
type Info struct {
	Path           string
	Format         Format
	Sheet          string // the sheet read, for a workbook
	SHA256         string // hex digest of the file's bytes
	Columns        []Column
	UnknownColumns []string // header names of ignored columns, once each
	Rows           int      // data rows seen; blank rows are not counted
	Blank          int      // blank rows skipped (no cell has a value)
	Accepted       int      // rows that became a new request
	Merged         int      // rows identical to an earlier request
	Rejected       int      // rows rejected
	Types          map[batch.RequestType]int
}

// Read streams the manifest at path, calling fn once for every data row, in
// file order. The format comes from the extension (.csv, .tsv, .txt, .parquet,
// .xlsx) and is checked against the content.
//
// A problem with the file as a whole is returned as a *FileError, possibly
// after some rows were already delivered: treat the whole file as unreadable
// then. An error from fn stops the read and is returned as is; so is the
// context's error.
func Read(ctx context.Context, path string, opts Options, fn func(Row) error) (Info, error) {
	info := Info{Path: path, Types: map[batch.RequestType]int{}}
	format, err := FormatOf(path)
	if err != nil {
		return info, &FileError{Path: path, Err: err}
	}
	info.Format = format
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is already in the message
		}
		return info, &FileError{Path: path, Err: fmt.Errorf("cannot open: %w", err)}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return info, &FileError{Path: path, Err: err}
	}
	if st.IsDir() {
		return info, &FileError{Path: path, Err: fmt.Errorf("%w: is a directory", ErrUnsupported)}
	}
	if st.Size() == 0 {
		return info, &FileError{Path: path, Err: ErrEmpty}
	}
	if err := sniff(f, format); err != nil {
		return info, &FileError{Path: path, Err: err}
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Dedup == nil && !opts.NoDedup {
		opts.Dedup = NewDeduper()
	}
	if fn == nil {
		fn = func(Row) error { return nil }
	}
	b := &builder{path: path, opts: opts, info: &info, fn: fn, ctx: ctx,
		dates: dateParser{loc: opts.Location}}

	switch format {
	case CSV:
		h := sha256.New()
		err = readCSV(io.TeeReader(f, h), b)
		if err == nil {
			_, err = io.Copy(h, f) // the reader may stop at the last record
			info.SHA256 = hex.EncodeToString(h.Sum(nil))
		}
	case Parquet:
		if info.SHA256, err = hashFile(f); err == nil {
			err = readParquet(f, st.Size(), b)
		}
	case XLSX:
		if info.SHA256, err = hashFile(f); err == nil {
			err = readXLSX(f, st.Size(), func(o excelize.Options) (*excelize.File, error) { return excelize.OpenFile(path, o) }, b)
		}
	}
	if err == nil && info.Rows == 0 {
		err = ErrNoRows
	}
	return info, b.fileError(err)
}

// formatOf picks the format from the file name's extension.
// FormatOf returns the manifest format a file name promises by its
// extension; Read also checks the content against it.
func FormatOf(path string) (Format, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".csv", ".tsv", ".txt":
		return CSV, nil
	case ".parquet":
		return Parquet, nil
	case ".xlsx":
		return XLSX, nil
	case ".xls":
		return "", fmt.Errorf("%w: legacy .xls workbooks are not read; save it as .xlsx", ErrUnsupported)
	default:
		return "", fmt.Errorf("%w: extension %q; want .csv, .tsv, .txt, .parquet or .xlsx", ErrUnsupported, ext)
	}
}

var (
	magicZip     = []byte("PK\x03\x04")
	magicParquet = []byte("PAR1")
	magicOLE     = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	bomUTF16LE   = []byte{0xFF, 0xFE}
	bomUTF16BE   = []byte{0xFE, 0xFF}
)

// sniff checks the first bytes of f against the format its name promises,
// and rewinds it.
func sniff(f *os.File, format Format) error {
	buf := make([]byte, 8)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	head := buf[:n]
	switch {
	case bytes.HasPrefix(head, magicOLE):
		return fmt.Errorf("%w: content is a legacy .xls or password-protected workbook; save it as .xlsx without a password", ErrUnsupported)
	case format == XLSX && !bytes.HasPrefix(head, magicZip):
		return fmt.Errorf("%w: content is not an .xlsx workbook", ErrUnsupported)
	case format == Parquet && !bytes.HasPrefix(head, magicParquet):
		return fmt.Errorf("%w: content is not a Parquet file", ErrUnsupported)
	case format != CSV:
		return nil
	case bytes.HasPrefix(head, magicZip):
		return fmt.Errorf("%w: content is a zip or .xlsx workbook, not CSV text; name it .xlsx", ErrUnsupported)
	case bytes.HasPrefix(head, magicParquet):
		return fmt.Errorf("%w: content is a Parquet file, not CSV text; name it .parquet", ErrUnsupported)
	case bytes.HasPrefix(head, bomUTF16LE), bytes.HasPrefix(head, bomUTF16BE):
		return fmt.Errorf("%w: content is UTF-16 text; save it as CSV UTF-8", ErrUnsupported)
	}
	return nil
}

// HashFile returns the hex SHA-256 of the file at path: a manifest's
// identity, as Info.SHA256 reports it after Read.
func HashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return hashFile(f)
}

func hashFile(f *os.File) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, 1<<62)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
