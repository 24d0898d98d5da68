package manifest

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"
)

// xlsxUnzipLimit bounds what a workbook may unpack to (zip bombs). excelize
// keeps parts in memory, except worksheets over 16 MiB, which it unpacks to
// temporary files and streams.
const xlsxUnzipLimit = 4 << 30

// excelize allocates a part's declared size up front for every part it keeps
// in memory, so besides checkPartSize (a part may not claim more than its
// packed data can unpack to), the parts kept in memory may not claim more
// than xlsxMemLimit in all: 300 MiB claimed by 300 KiB of deflate data is
// possible, but not in a manifest, and costs 300 MiB per read. Worksheets
// and the shared-strings table over xlsxXMLLimit are unpacked to temporary
// files and streamed, within xlsxUnzipLimit.
const (
	xlsxXMLLimit = excelize.StreamChunkSize // excelize's UnzipXMLSizeLimit
	xlsxMemLimit = 256 << 20
)

// readXLSX streams the first sheet of a workbook, or the one Options.Sheet
// names, into b. Rows carry the numbers Excel shows; the header is the first
// row with a value and empty rows are skipped and counted in Info.Blank.
// Cells are read raw, so a number in a date column is an Excel date serial
// (honouring the workbook's 1904 date system) and ids are not reformatted.
//
// zipped is the workbook file, for checkWorkbookText; open opens it with
// excelize.
func readXLSX(zipped io.ReaderAt, size int64, open func(excelize.Options) (*excelize.File, error), b *builder) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", ErrMalformed, p)
		}
	}()
	if err := checkWorkbookText(zipped, size); err != nil {
		return err
	}
	f, err := open(excelize.Options{UnzipSizeLimit: xlsxUnzipLimit, UnzipXMLSizeLimit: xlsxXMLLimit})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	defer f.Close()

	sheets := f.GetSheetList()
	sheet := b.opts.Sheet
	switch {
	case len(sheets) == 0:
		return fmt.Errorf("%w: the workbook has no sheets", ErrNoSheet)
	case sheet == "":
		sheet = sheets[0]
	case !slices.Contains(sheets, sheet):
		return fmt.Errorf("%w %q; the workbook has %s", ErrNoSheet, sheet, quoteList(sheets))
	}
	b.info.Sheet = sheet
	props, err := f.GetWorkbookProps()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	b.dates.serials = true
	b.dates.date1904 = props.Date1904 != nil && *props.Date1904

	rows, err := f.Rows(sheet)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	defer rows.Close()
	raw := excelize.Options{RawCellValue: true}
	for row := 1; rows.Next(); row++ {
		cells, err := rows.Columns(raw)
		if err != nil {
			return &FileError{Path: b.path, Row: row, Err: fmt.Errorf("%w: %v", ErrMalformed, err)}
		}
		switch {
		case isBlank(cells):
			b.blank()
		case b.hdr == nil:
			b.info.Blank = 0 // rows above the header are not data
			if err := b.setHeader(cells, row); err != nil {
				return err
			}
		default:
			rec := record{row: row}
			b.hdr.fill(&rec, cells)
			if err := b.add(&rec); err != nil {
				return err
			}
		}
	}
	if err := rows.Error(); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if b.hdr == nil {
		return fmt.Errorf("%w: sheet %q has no header row", ErrEmpty, sheet)
	}
	return nil
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
