package manifest

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// trimSpace is the one definition of the whitespace removed around every
// cell, header and value the package reads: Unicode White_Space
// (unicode.IsSpace), so ASCII spaces, tabs and line breaks, U+0085, U+00A0
// NO-BREAK SPACE, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F and U+3000.
// Format characters such as U+200B ZERO WIDTH SPACE or U+FEFF are not
// whitespace: they stay, and ids and emails holding them are rejected.
func trimSpace(s string) string { return strings.TrimSpace(s) }

// maxIDLen bounds request and user ids, which end up in logs and reports.
const maxIDLen = 256

// checkID reports what is wrong with a request or user id, if anything;
// what names the column in the reason. An id is used exactly as written
// (after trimSpace), so anything that would make two ids look the same
// while they differ, or that a tool put in place of lost bytes, is refused.
func checkID(what, s string) error {
	switch {
	case len(s) > maxIDLen:
		return fmt.Errorf("%s is longer than %d bytes", what, maxIDLen)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not UTF-8 text; save the file as UTF-8", what)
	}
	if p := hiddenRune(s); p != "" {
		return fmt.Errorf("%s contains %s", what, p)
	}
	return nil
}

// hiddenRune describes the first rune of s, which must be valid UTF-8, that
// no id or email may hold, or returns "":
//
//   - a control character (category Cc: C0, DEL, C1), e.g. a tab or a line
//     break inside the value;
//   - a format character (category Cf): zero-width space and joiners,
//     soft hyphen, word joiner, a byte-order mark inside the value, and
//     bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE and the like),
//     named as such;
//   - U+FFFD REPLACEMENT CHARACTER, which decoders (excelize, spreadsheet
//     exports, charset conversions) put where they met bytes that were not
//     valid text: the id as written is lost.
//
// It never repeats the value, only the code point and its name.
func hiddenRune(s string) string {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return "a control character (" + runeName(rune(c)) + ")"
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == utf8.RuneError:
			return "U+FFFD REPLACEMENT CHARACTER, the mark of bytes lost to a wrong encoding; export the file again as UTF-8"
		case unicode.Is(unicode.Cc, r):
			return "a control character (" + runeName(r) + ")"
		case unicode.Is(unicode.Bidi_Control, r):
			return "a bidirectional text control (" + runeName(r) + ")"
		case unicode.Is(unicode.Cf, r):
			return "an invisible format character (" + runeName(r) + ")"
		}
	}
	return ""
}

// runeName renders r as "U+200B ZERO WIDTH SPACE", or "U+E0041" when the
// character is not one a person is likely to meet (its name is then left
// out rather than carrying Unicode's whole name table).
func runeName(r rune) string {
	if name, ok := runeNames[r]; ok {
		return fmt.Sprintf("%U %s", r, name)
	}
	return fmt.Sprintf("%U", r)
}

// runeNames names the control and format characters found in pasted ids
// and emails: Unicode names, or the name aliases of controls, which have no
// name. Unicode never changes a name once given.
var runeNames = map[rune]string{
	0x00: "NULL",
	0x08: "BACKSPACE",
	0x09: "CHARACTER TABULATION",
	0x0A: "LINE FEED",
	0x0B: "LINE TABULATION",
	0x0C: "FORM FEED",
	0x0D: "CARRIAGE RETURN",
	0x1B: "ESCAPE",
	0x7F: "DELETE",
	0x85: "NEXT LINE",
	0xAD: "SOFT HYPHEN",

	0x061C: "ARABIC LETTER MARK",
	0x180E: "MONGOLIAN VOWEL SEPARATOR",
	0x200B: "ZERO WIDTH SPACE",
	0x200C: "ZERO WIDTH NON-JOINER",
	0x200D: "ZERO WIDTH JOINER",
	0x200E: "LEFT-TO-RIGHT MARK",
	0x200F: "RIGHT-TO-LEFT MARK",
	0x202A: "LEFT-TO-RIGHT EMBEDDING",
	0x202B: "RIGHT-TO-LEFT EMBEDDING",
	0x202C: "POP DIRECTIONAL FORMATTING",
	0x202D: "LEFT-TO-RIGHT OVERRIDE",
	0x202E: "RIGHT-TO-LEFT OVERRIDE",
	0x2060: "WORD JOINER",
	0x2061: "FUNCTION APPLICATION",
	0x2062: "INVISIBLE TIMES",
	0x2063: "INVISIBLE SEPARATOR",
	0x2064: "INVISIBLE PLUS",
	0x2066: "LEFT-TO-RIGHT ISOLATE",
	0x2067: "RIGHT-TO-LEFT ISOLATE",
	0x2068: "FIRST STRONG ISOLATE",
	0x2069: "POP DIRECTIONAL ISOLATE",
	0xFEFF: "ZERO WIDTH NO-BREAK SPACE, a byte-order mark",
	0xFFF9: "INTERLINEAR ANNOTATION ANCHOR",
	0xFFFA: "INTERLINEAR ANNOTATION SEPARATOR",
	0xFFFB: "INTERLINEAR ANNOTATION TERMINATOR",
}
