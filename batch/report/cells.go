package report

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// Cells that spreadsheet programs could run as formulas (OWASP, "CSV
// Injection"): a value starting with =, + , - or @ is a formula to Excel,
// LibreOffice and Google Sheets, and a leading tab or carriage return is
// skipped by some of them before they look. Data never becomes a formula in
// anything this package writes:
//
//   - in report.xlsx every string is an inline string cell (t="inlineStr",
//     no <f> element) with the Text number format ("@"), so Excel shows it
//     verbatim and keeps it as text even when someone edits the cell;
//   - in CSV, where no cell has a type, such a value is prefixed with an
//     apostrophe, as OWASP recommends; the JSON files keep exact values.

// looksLikeFormula reports whether a spreadsheet could read s as a formula.
func looksLikeFormula(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// csvText returns s as it goes into a CSV cell: prefixed with an apostrophe
// when it looks like a formula, unchanged otherwise.
func csvText(s string) string {
	if looksLikeFormula(s) {
		return "'" + s
	}
	return s
}

// maxCellChars is Excel's limit on the characters of one cell, counted in
// UTF-16 code units. excelize silently cuts longer values; excelText cuts
// them visibly instead.
const maxCellChars = 32767

// excelText returns s cut to what one Excel cell holds, ending with a note
// that says so, or s itself when it fits.
func excelText(s string) string {
	if len(s) <= maxCellChars || utf16Len(s) <= maxCellChars { // a byte is at most one UTF-16 unit
		return s
	}
	note := fmt.Sprintf(" … [cut: %d characters in full; the Parquet report holds the whole value]", utf8.RuneCountInString(s))
	room := maxCellChars - utf16Len(note)
	n := 0
	for i, r := range s {
		if n += utf16.RuneLen(r); n > room {
			return s[:i] + note
		}
	}
	return s + note // not reached: s is longer than the room
}

// utf16Len is the length of s in UTF-16 code units, as Excel counts.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
