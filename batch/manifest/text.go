package manifest

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// trimSpace is the one definition of the whitespace removed around every
// cell, header and value the package reads: Unicode White_Space
// (unicode.IsSpace).
func trimSpace(s string) string { return strings.TrimSpace(s) }

// maxIDLen bounds request and user ids, which end up in logs and reports.
const maxIDLen = 256

// checkID reports what is wrong with a request or user id, if anything;
// what names the column in the reason.
func checkID(what, s string) error {
	switch {
	case len(s) > maxIDLen:
		return fmt.Errorf("%s is longer than %d bytes", what, maxIDLen)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not UTF-8 text; save the file as UTF-8", what)
	case strings.ContainsFunc(s, unicode.IsControl):
		return fmt.Errorf("%s contains a line break or control character", what)
	}
	return nil
}
