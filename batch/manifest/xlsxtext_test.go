package manifest

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	mt "github.com/ctdsr/ctdsr/batch/manifest/manifesttest"
)

// TestReadXLSXRawText edits the XML inside a workbook the way a faulty
// writer would. Where excelize would end the sheet early or drop text
// without an error, Read refuses the file before delivering any row; what
// excelize reads faithfully stays a row-level matter.
func TestReadXLSXRawText(t *testing.T) {
	const (
		sheet   = "xl/worksheets/sheet1.xml"
		strings = "xl/sharedStrings.xml"
		advice  = "; re-export the workbook from the tool that made it, or save the sheet as CSV UTF-8"
	)
	book := mt.Workbook{Sheets: []mt.Sheet{{Name: "Requests", Rows: [][]any{
		{"id", "type", "uid"},
		{"X-1", "access", "u-AAA"},
		{"X-2", "access", 12345},
		{"X-3", "access", "u-CCC"},
	}}}}
	// replace returns an edit of one part.
	replace := func(part, old, new string) func(string, []byte) []byte {
		return func(name string, data []byte) []byte {
			if name != part {
				return data
			}
			return bytes.ReplaceAll(data, []byte(old), []byte(new))
		}
	}
	inline := func(text string) func(string, []byte) []byte {
		return replace(sheet, `<c r="C3"><v>12345</v></c>`, `<c r="C3" t="inlineStr"><is><t>`+text+`</t></is></c>`)
	}
	tests := []struct {
		name    string
		edit    func(string, []byte) []byte
		part    string         // the part at fault, or "" to read rows
		at      string         // what is at fault in it, where the offset must point
		err     string         // what the message says of it
		outcome map[int]string // when part is ""
	}{
		{
			name: "not UTF-8 in an inline string",
			edit: inline("u-2\xff"),
			part: sheet, at: "\xff", err: "bytes that are not UTF-8 (0xFF), where reading would stop without an error",
		},
		{
			name: "not UTF-8 in a shared string",
			edit: replace(strings, "u-AAA", "u-A\xe9A"),
			part: strings, at: "\xe9", err: "bytes that are not UTF-8 (0xE9), where reading would stop without an error",
		},
		{
			name: "a raw control character",
			edit: inline("u-\x012"),
			part: sheet, at: "\x01", err: "a character XML does not allow (U+0001), where reading would stop without an error",
		},
		{
			name: "U+FFFF",
			edit: replace(strings, "u-AAA", "u-\uffffA"),
			part: strings, at: "\uffff", err: "a character XML does not allow (U+FFFF), where reading would stop without an error",
		},
		{
			name: "an escaped surrogate",
			edit: replace(strings, "u-AAA", "u-A_xD83D_"),
			part: strings, at: "_xD83D_", err: "an escaped UTF-16 surrogate (_xD83D_), which reading would drop from the cell's text",
		},
		{
			name: "an escaped surrogate in lower case",
			edit: replace(strings, "u-AAA", "u-A_xdc00_"),
			part: strings, at: "_xdc00_", err: "an escaped UTF-16 surrogate (_xdc00_), which reading would drop from the cell's text",
		},
		{
			name: "an escaped control character is read, then rejected",
			edit: replace(strings, "u-AAA", "u-A_x0001_"),
			outcome: map[int]string{
				2: "reject X-1 [user_id]: user id contains a control character (U+0001)",
				3: "X-2 access user=12345",
				4: "X-3 access user=u-CCC",
			},
		},
		{
			name: "an escaped zero-width space is read, then rejected",
			edit: replace(strings, "u-AAA", "u-A_x200B_"),
			outcome: map[int]string{
				2: "reject X-1 [user_id]: user id contains an invisible format character (U+200B ZERO WIDTH SPACE)",
				3: "X-2 access user=12345",
				4: "X-3 access user=u-CCC",
			},
		},
		{
			name: "a part in ISO-8859-1 is decoded, not refused",
			edit: func(name string, data []byte) []byte {
				data = replace(strings, `encoding="UTF-8"`, `encoding="ISO-8859-1"`)(name, data)
				return replace(strings, "u-AAA", "u-A\xe9A")(name, data)
			},
			outcome: map[int]string{
				2: "X-1 access user=u-A\u00e9A",
				3: "X-2 access user=12345",
				4: "X-3 access user=u-CCC",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := mustWriteXLSX(t, filepath.Join(t.TempDir(), "book.xlsx"), book)
			offset := -1
			mustEditZip(t, path, func(name string, data []byte) []byte {
				data = tt.edit(name, data)
				if name == tt.part {
					offset = bytes.Index(data, []byte(tt.at))
				}
				return data
			})
			if tt.part == "" {
				_, rows := mustRead(t, path, Options{})
				if d := diffOutcomes(outcomes(rows), tt.outcome); d != "" {
					t.Errorf("outcomes differ:\n%s", d)
				}
				return
			}
			if offset < 0 {
				t.Fatalf("%q is not in %s", tt.at, tt.part)
			}
			want := fmt.Sprintf("%s: malformed file: %s, byte %d: %s%s", path, tt.part, offset, tt.err, advice)
			calls := 0
			_, err := Read(t.Context(), path, Options{}, func(Row) error { calls++; return nil })
			var fe *FileError
			if !errors.As(err, &fe) || !errors.Is(err, ErrMalformed) || err.Error() != want || calls != 0 {
				t.Errorf("Read after %d rows: err = %v\nwant a FileError wrapping ErrMalformed: %s", calls, err, want)
			}
		})
	}
}

// TestScanXMLTextChunks puts each problem, and a valid character of every
// UTF-8 length, across the boundary between two chunks: problems are found
// at their offset, valid text passes.
func TestScanXMLTextChunks(t *testing.T) {
	tests := []struct {
		insert, problem string
	}{
		{"é", ""}, {"€", ""}, {"😀", ""}, {"_x0041_", ""}, {"_xD7FF_", ""}, {"_xE000_", ""},
		{"\xff", "bytes that are not UTF-8 (0xFF)"},
		{"\xf0\x9f\x98", "bytes that are not UTF-8 (0xF0)"}, // a rune cut short
		{"\x0b", "a character XML does not allow (U+000B)"},
		{"\uffff", "a character XML does not allow (U+FFFF)"},
		{"_xD800_", "an escaped UTF-16 surrogate (_xD800_)"},
		{"_xDFFF_", "an escaped UTF-16 surrogate (_xDFFF_)"},
	}
	for _, tt := range tests {
		for pos := xmlTextChunk - xmlTextKeep - 2; pos <= xmlTextChunk+2; pos++ {
			data := strings.Repeat("a", pos) + tt.insert + strings.Repeat("b", 100)
			budget := int64(1 << 30)
			err := scanXMLText("part.xml", strings.NewReader(data), &budget)
			want := ""
			if tt.problem != "" {
				want = fmt.Sprintf("malformed file: part.xml, byte %d: %s", pos, tt.problem)
			}
			if got := errString(err); !strings.HasPrefix(got, want) || (want == "") != (got == "") {
				t.Errorf("%q at byte %d: err = %q, want it to start with %q", tt.insert, pos, got, want)
			}
		}
	}
}

func TestDeclaresUTF8(t *testing.T) {
	for head, want := range map[string]bool{
		`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><a/>`: true,
		`<?xml version="1.0" encoding='utf8'?><a/>`:                   true,
		`<?xml version="1.0"?><a/>`:                                   true,
		`<a/>`:                                                        true,
		"\uFEFF<?xml version=\"1.0\" encoding=\"UTF-8\"?>":            true,
		`<?xml version="1.0" encoding = "ISO-8859-1"?><a/>`:           false,
		`<?xml version="1.0" encoding="windows-1252"?><a/>`:           false,
		"\xff\xfe<\x00?\x00":                                          false,
	} {
		if got := declaresUTF8([]byte(head)); got != want {
			t.Errorf("declaresUTF8(%q) = %v, want %v", head, got, want)
		}
	}
}

// TestReadXLSXLyingZip gives a workbook part a header that lies about its
// data: excelize would allocate a declared size before unpacking, and keeps
// a part whose checksum fails without an error.
func TestReadXLSXLyingZip(t *testing.T) {
	tests := []struct {
		name string
		fix  func(h zip.FileHeader) zip.FileHeader
		msg  string
	}{
		{"declared size past what deflate can unpack", func(h zip.FileHeader) zip.FileHeader {
			if h.Name == "xl/_rels/workbook.xml.rels" {
				h.UncompressedSize64 = 3 << 30
			}
			return h
		}, "xl/_rels/workbook.xml.rels claims 3221225472 bytes unpacked from "},
		{"a worksheet's checksum", func(h zip.FileHeader) zip.FileHeader {
			if h.Name == "xl/worksheets/sheet1.xml" {
				h.CRC32 ^= 1
			}
			return h
		}, "malformed file: xl/worksheets/sheet1.xml: zip: checksum error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := mustWriteManifest(t, t.TempDir(), XLSX, [][]any{{"id", "type", "uid"}, {"X-1", "access", "u-1"}})
			mustRepackZip(t, path, tt.fix)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, _, err := readAll(t, path, Options{})
			runtime.ReadMemStats(&after)
			var fe *FileError
			if !errors.As(err, &fe) || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v; want a FileError wrapping ErrMalformed, saying %q", err, tt.msg)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
				t.Errorf("reading allocated %d MiB; want the lie refused before any large allocation", alloc>>20)
			}
		})
	}
}
