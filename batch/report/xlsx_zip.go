package report

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"

	"github.com/xuri/excelize/v2"
)

// excelize's File.Write, WriteTo and SaveAs all build the whole compressed
// workbook in a bytes.Buffer before writing it out (WriteToBuffer), so
// memory would grow with the row count however the sheets were streamed.
// fileZip is the documented way round it: File.SetZipWriter makes excelize
// write its parts into a zip.Writer of ours, straight onto the temporary
// file. Writing past WriteToBuffer also skips excelize's one fix-up of the
// finished archive, which fileZip therefore repeats (see patchZip64).

// zip64Threshold is the uncompressed size past which an entry is ZIP64.
// A variable so that tests can exercise patchZip64 on small files.
var zip64Threshold int64 = math.MaxUint32

// fileZip is an excelize.ZipWriter writing onto f, recording where each
// entry's local file header starts and how large the entry grew.
type fileZip struct {
	f       *os.File
	pos     *countWriter // bytes handed to f so far
	zw      *zip.Writer
	entries []zipEntry
}

type zipEntry struct {
	name string
	lfh  int64        // offset of the local file header
	size *countWriter // uncompressed bytes written
}

var _ excelize.ZipWriter = (*fileZip)(nil)

// newFileZip writes a zip archive onto f through w, a buffer over f that
// the caller flushes after Close.
func newFileZip(f *os.File, w io.Writer) *fileZip {
	pos := &countWriter{w: w}
	return &fileZip{f: f, pos: pos, zw: zip.NewWriter(pos)}
}

// Create starts an entry. zip.Writer writes the local header as soon as
// the entry is created; flushing its buffer then puts our count just past
// the header (30 bytes and the name: Create sets no extra field), which
// locates the header exactly.
func (z *fileZip) Create(name string) (io.Writer, error) {
	w, err := z.zw.Create(name)
	if err != nil {
		return nil, err
	}
	if err := z.zw.Flush(); err != nil {
		return nil, err
	}
	e := zipEntry{name: name, lfh: z.pos.n - 30 - int64(len(name)), size: &countWriter{w: w}}
	z.entries = append(z.entries, e)
	return e.size, nil
}

// AddFS is part of excelize.ZipWriter; excelize does not call it when saving.
func (z *fileZip) AddFS(fsys fs.FS) error { return z.zw.AddFS(fsys) }

// Close finishes the archive (central directory included).
func (z *fileZip) Close() error { return z.zw.Close() }

// patchZip64 does what excelize's writeZip64LFH does for a buffered save:
// Go's zip.Writer streams entries with a data descriptor and writes
// "version needed to extract" 2.0 in their local headers even when an
// entry turns out larger than 4 GiB (ZIP64, version 4.5); Excel refuses
// such files. Call it once the archive is closed and flushed to z.f. Each
// header is checked (signature and name) before its two bytes are set.
func (z *fileZip) patchZip64() error {
	for _, e := range z.entries {
		if e.size.n <= zip64Threshold {
			continue
		}
		head := make([]byte, 30+len(e.name))
		if _, err := z.f.ReadAt(head, e.lfh); err != nil {
			return fmt.Errorf("read local header of %s: %w", e.name, err)
		}
		if !bytes.Equal(head[:4], []byte("PK\x03\x04")) || string(head[30:]) != e.name {
			return fmt.Errorf("local header of %s not found at offset %d", e.name, e.lfh)
		}
		if _, err := z.f.WriteAt([]byte{45, 0}, e.lfh+4); err != nil {
			return fmt.Errorf("mark %s as ZIP64: %w", e.name, err)
		}
	}
	return nil
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
