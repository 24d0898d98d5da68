package manifest

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// maxPageBytes bounds the size a Parquet page may claim, compressed or
// not. Writers make pages of about 1 MiB; a manifest page of 256 MiB would
// hold millions of rows.
const maxPageBytes = 256 << 20

// maxPageValues bounds the values a Parquet page may claim: parquet-go
// sizes a page's level and offset buffers from that count, so a count of
// 1e9 in a page of a few bytes costs 1.2 GiB. Writers end a page well
// before 16 million values.
const maxPageValues = 1 << 24

// checkPageSizes reads the page headers of one column chunk, skipping
// their data, and refuses the sizes parquet-go would allocate before
// finding them false: parquet-go sizes a page's buffers from the header's
// claims before reading the page, so a few corrupt bytes in a small file
// could make it ask for gigabytes. Refused: a chunk outside the file, a
// page larger than what is left of its chunk, a page claiming more than
// maxPageBytes, and a page claiming more than maxPageValues values. It stops once the pages hold the chunk's values, as
// a reader does.
func checkPageSizes(r io.ReaderAt, size int64, m *format.ColumnMetaData) error {
	start := m.DataPageOffset
	if m.DictionaryPageOffset != 0 { // as parquet-go reads it
		start = m.DictionaryPageOffset
	}
	if start < 0 || m.TotalCompressedSize < 0 || start > size || m.TotalCompressedSize > size-start {
		return fmt.Errorf("%w: a column chunk lies outside the file", ErrMalformed)
	}
	br := bufio.NewReaderSize(io.NewSectionReader(r, start, m.TotalCompressedSize), 4096)
	var proto thrift.CompactProtocol
	dec := thrift.NewDecoder(proto.NewReader(br))
	for values := int64(0); values < m.NumValues; {
		var h format.PageHeader
		if err := dec.Decode(&h); err != nil {
			return fmt.Errorf("%w: reading a page header: %v", ErrMalformed, err)
		}
		switch {
		case h.CompressedPageSize < 0 || h.CompressedPageSize > maxPageBytes:
			return fmt.Errorf("%w: a page claims %d bytes", ErrMalformed, h.CompressedPageSize)
		case h.UncompressedPageSize < 0 || h.UncompressedPageSize > maxPageBytes:
			return fmt.Errorf("%w: a page claims %d bytes uncompressed; at most %d are read",
				ErrMalformed, h.UncompressedPageSize, maxPageBytes)
		}
		if n := max(h.DataPageHeader.V.NumValues, h.DataPageHeaderV2.V.NumValues, h.DictionaryPageHeader.V.NumValues); n > maxPageValues {
			return fmt.Errorf("%w: a page claims %d values; at most %d are read", ErrMalformed, n, maxPageValues)
		}
		if _, err := br.Discard(int(h.CompressedPageSize)); err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("%w: a page claims %d bytes, more than its column chunk holds", ErrMalformed, h.CompressedPageSize)
			}
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		switch {
		case h.DataPageHeader.Valid:
			values += int64(max(h.DataPageHeader.V.NumValues, 1))
		case h.DataPageHeaderV2.Valid:
			values += int64(max(h.DataPageHeaderV2.V.NumValues, 1))
		}
	}
	return nil
}
