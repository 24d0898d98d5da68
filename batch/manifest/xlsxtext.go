package manifest

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// checkWorkbookText reads, as raw bytes, the parts of a workbook that hold
// cell text (every worksheet and the shared-strings table) before excelize
// decodes them, and refuses the workbook where excelize would lose or alter
// text without an error:
//
//   - bytes that are not UTF-8, or a character XML 1.0 does not allow (a
//     C0 control other than tab and line breaks, U+FFFE, U+FFFF):
//     encoding/xml stops there with a syntax error that excelize's row
//     iterator swallows, so the sheet would silently end at that cell;
//   - an escaped UTF-16 surrogate (_xD800_ to _xDFFF_): excelize drops it
//     from the text, so "u-1_xD83D_" would be read as "u-1".
//
// A part that declares an encoding other than UTF-8 is left to excelize's
// charset conversion, which writes U+FFFD for what it cannot decode; the
// U+FFFD rule for ids and emails refuses that. A literal cell text
// "_xD800_" (stored as "_x005F_xD800_") is refused too, which is safe.
//
// Reading the parts through archive/zip also verifies their checksums,
// which excelize ignores for the parts it keeps in memory; and every part's
// declared size is checked first (checkPartSize), as is the sum of the
// declared sizes of the parts excelize keeps in memory (xlsxMemLimit).
// Every cell-text part is read to its end, so a part whose packed data are
// cut short or damaged is refused here: excelize would read what it could
// of it without an error, or, for a part it streams, fall back to reading it
// into a buffer of its declared size.
func checkWorkbookText(r io.ReaderAt, size int64) error {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	budget := int64(xlsxUnzipLimit)
	var inMemory uint64
	for _, f := range zr.File {
		if err := checkPartSize(f, size); err != nil {
			return err
		}
		if !streamedPart(f) {
			if f.UncompressedSize64 > xlsxMemLimit-inMemory {
				return fmt.Errorf("%w: %s claims %d bytes unpacked; with the parts before it, more than the %d MiB a workbook may keep in memory",
					ErrMalformed, f.Name, f.UncompressedSize64, xlsxMemLimit>>20)
			}
			inMemory += f.UncompressedSize64
		}
		if !holdsCellText(f.Name) {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrMalformed, f.Name, err)
		}
		err = scanXMLText(f.Name, rc, &budget)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// maxDeflateRatio is a little over what deflate can reach (1032 to 1).
const maxDeflateRatio = 1100

// checkPartSize refuses a part whose packed data would run past the end of
// the file (size bytes), or whose declared unpacked size its packed data
// cannot hold: excelize allocates the declared size of every part it keeps
// in memory before unpacking it, so one lying header in a workbook of a few
// kilobytes could make it ask for gigabytes.
func checkPartSize(f *zip.File, size int64) error {
	off, err := f.DataOffset()
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrMalformed, f.Name, err)
	}
	if f.CompressedSize64 > uint64(size-off) {
		return fmt.Errorf("%w: %s claims %d bytes packed, past the end of the file (%d bytes); the workbook is damaged",
			ErrMalformed, f.Name, f.CompressedSize64, size)
	}
	var lying bool
	switch f.Method {
	case zip.Store:
		lying = f.UncompressedSize64 > f.CompressedSize64
	case zip.Deflate:
		lying = f.UncompressedSize64 > 1<<10 && f.UncompressedSize64/maxDeflateRatio > f.CompressedSize64
	default:
		return nil // archive/zip cannot unpack it: excelize fails before allocating
	}
	if lying {
		return fmt.Errorf("%w: %s claims %d bytes unpacked from %d packed; the workbook is damaged",
			ErrMalformed, f.Name, f.UncompressedSize64, f.CompressedSize64)
	}
	return nil
}

// streamedPart tells the parts excelize unpacks to a temporary file and
// streams instead of keeping them in memory: the shared-strings table and
// worksheets that declare more than xlsxXMLLimit (excelize's
// UnzipXMLSizeLimit, which readXLSX sets to it).
func streamedPart(f *zip.File) bool {
	n := strings.ToLower(strings.ReplaceAll(f.Name, `\`, "/"))
	return f.UncompressedSize64 > xlsxXMLLimit && !f.FileInfo().IsDir() &&
		(n == "xl/sharedstrings.xml" || strings.HasPrefix(n, "xl/worksheets/sheet"))
}

// holdsCellText tells the workbook parts whose text becomes cell values.
func holdsCellText(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, ".xml") &&
		(strings.HasPrefix(n, "xl/worksheets/") || n == "xl/sharedstrings.xml")
}

// xmlTextChunk is how much of a part scanXMLText reads at a time;
// xmlTextKeep is what it keeps from one chunk to the next, so that a rune
// (4 bytes) or an escape (_xHHHH_, 7 bytes) cut by a chunk is seen whole.
const (
	xmlTextChunk = 64 << 10
	xmlTextKeep  = 7
)

// scanXMLText checks one part, streaming it to its end; budget bounds the
// bytes unpacked over all parts (past it, excelize's own limit reports the
// workbook). A part that declares an encoding other than UTF-8 is read to
// its end without checking its characters.
func scanXMLText(name string, r io.Reader, budget *int64) error {
	r = cutShort{r}
	buf := make([]byte, xmlTextKeep+xmlTextChunk)
	carry := 0
	offset := int64(0) // of buf[0] in the part
	check := true
	for first := true; ; first = false {
		n, err := io.ReadFull(r, buf[carry:carry+xmlTextChunk])
		eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !eof {
			return fmt.Errorf("%w: %s: %v", ErrMalformed, name, err)
		}
		if *budget -= int64(n); *budget < 0 {
			return nil
		}
		data := buf[:carry+n]
		if first && !declaresUTF8(data) {
			check = false
		}
		if !check {
			if eof {
				return nil
			}
			carry = 0
			continue
		}
		end := len(data)
		if !eof {
			end -= xmlTextKeep
		}
		i, problem := scanXMLChars(data, end)
		if problem != "" {
			return fmt.Errorf("%w: %s, byte %d: %s; re-export the workbook from the tool that made it, or save the sheet as CSV UTF-8",
				ErrMalformed, name, offset+int64(i), problem)
		}
		if eof {
			return nil
		}
		carry = copy(buf, data[i:])
		offset += int64(i)
	}
}

// errCutShort stands for io.ErrUnexpectedEOF from a part's reader (its
// packed data end before its declared size), which io.ReadFull would
// otherwise pass on as the io.ErrUnexpectedEOF of a last, short chunk.
var errCutShort = errors.New("the part's data end before its declared size; the workbook is damaged or was not copied whole")

// cutShort reports a part that ends early as errCutShort.
type cutShort struct{ r io.Reader }

func (c cutShort) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = errCutShort
	}
	return n, err
}

// scanXMLChars checks data[i:] for i < end and returns where it stopped
// (end, or a little past it, at a rune boundary) or where it found a
// problem, described.
func scanXMLChars(data []byte, end int) (int, string) {
	i := 0
	for i < end {
		c := data[i]
		if c < utf8.RuneSelf {
			switch {
			case c < 0x20 && c != '\t' && c != '\n' && c != '\r':
				return i, fmt.Sprintf("a character XML does not allow (%U), where reading would stop without an error", c)
			case c == '_' && isSurrogateEscape(data[i:]):
				return i, fmt.Sprintf("an escaped UTF-16 surrogate (%s), which reading would drop from the cell's text", data[i:i+xmlTextKeep])
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			return i, fmt.Sprintf("bytes that are not UTF-8 (0x%02X), where reading would stop without an error", c)
		case r == 0xFFFE || r == 0xFFFF:
			return i, fmt.Sprintf("a character XML does not allow (%U), where reading would stop without an error", r)
		}
		i += n
	}
	return i, ""
}

// isSurrogateEscape reports whether b starts with _xD800_ to _xDFFF_ (hex
// digits in either case), the OOXML escape of a UTF-16 surrogate.
func isSurrogateEscape(b []byte) bool {
	if len(b) < xmlTextKeep || b[1] != 'x' || b[2]|0x20 != 'd' || b[6] != '_' {
		return false
	}
	switch b[3] | 0x20 {
	case '8', '9', 'a', 'b', 'c', 'd', 'e', 'f':
	default:
		return false
	}
	return isHex(b[4]) && isHex(b[5])
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'f'
}

// declaresUTF8 reports whether an XML part starting with head is UTF-8: no
// UTF-16 byte-order mark, and no encoding declaration naming another
// encoding.
func declaresUTF8(head []byte) bool {
	if bytes.HasPrefix(head, bomUTF16LE) || bytes.HasPrefix(head, bomUTF16BE) {
		return false
	}
	head = bytes.TrimPrefix(head, utf8BOM)
	if !bytes.HasPrefix(head, []byte("<?xml")) {
		return true
	}
	decl, _, ok := bytes.Cut(head, []byte("?>"))
	if !ok {
		return true
	}
	_, enc, ok := bytes.Cut(decl, []byte("encoding"))
	if !ok {
		return true
	}
	enc = bytes.TrimLeft(enc, " \t\r\n=")
	if len(enc) == 0 || (enc[0] != '"' && enc[0] != '\'') {
		return true
	}
	name, _, _ := bytes.Cut(enc[1:], enc[:1])
	switch strings.ToLower(string(name)) {
	case "utf-8", "utf8":
		return true
	}
	return false
}
