package manifest

import (
	"strings"
	"testing"
)

func TestTrimSpace(t *testing.T) {
	for in, want := range map[string]string{
		" u-1 ":           "u-1",
		"\tu-1\r\n":       "u-1",
		"\u00a0u-1\u3000": "u-1",       // NO-BREAK SPACE, IDEOGRAPHIC SPACE
		"\u2009u 1\u202f": "u 1",       // THIN SPACE, NARROW NO-BREAK SPACE; inner space kept
		"\u0085u-1":       "u-1",       // NEXT LINE is White_Space
		"u-1\u200b":       "u-1\u200b", // ZERO WIDTH SPACE is not whitespace: checkID refuses it
		"\ufeffu-1":       "\ufeffu-1",
		"":                "",
	} {
		if got := trimSpace(in); got != want {
			t.Errorf("trimSpace(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckID(t *testing.T) {
	tests := []struct{ in, err string }{
		{"u-1", ""},
		{"Ünïcödé-ид-名前", ""},
		{"a b", ""},
		{"u-1\u200b", "user id contains an invisible format character (U+200B ZERO WIDTH SPACE)"},
		{"u\u200c1", "user id contains an invisible format character (U+200C ZERO WIDTH NON-JOINER)"},
		{"u\u200d1", "user id contains an invisible format character (U+200D ZERO WIDTH JOINER)"},
		{"u\u20601", "user id contains an invisible format character (U+2060 WORD JOINER)"},
		{"u\u00ad1", "user id contains an invisible format character (U+00AD SOFT HYPHEN)"},
		{"u\ufeff1", "user id contains an invisible format character (U+FEFF ZERO WIDTH NO-BREAK SPACE, a byte-order mark)"},
		{"u\U000e00411", "user id contains an invisible format character (U+E0041)"},
		{"\u202eu-1", "user id contains a bidirectional text control (U+202E RIGHT-TO-LEFT OVERRIDE)"},
		{"u\u2066-1\u2069", "user id contains a bidirectional text control (U+2066 LEFT-TO-RIGHT ISOLATE)"},
		{"u\u200f1", "user id contains a bidirectional text control (U+200F RIGHT-TO-LEFT MARK)"},
		{"u\u061c1", "user id contains a bidirectional text control (U+061C ARABIC LETTER MARK)"},
		{"u\t1", "user id contains a control character (U+0009 CHARACTER TABULATION)"},
		{"u\n1", "user id contains a control character (U+000A LINE FEED)"},
		{"u\x001", "user id contains a control character (U+0000 NULL)"},
		{"u\x7f1", "user id contains a control character (U+007F DELETE)"},
		{"u\u00851", "user id contains a control character (U+0085 NEXT LINE)"},
		{"u\u00811", "user id contains a control character (U+0081)"},
		{"u-\ufffd", "user id contains U+FFFD REPLACEMENT CHARACTER, the mark of bytes lost to a wrong encoding; export the file again as UTF-8"},
		{"u-\xff", "user id is not UTF-8 text; save the file as UTF-8"},
		{"u-\xed\xa0\x80", "user id is not UTF-8 text; save the file as UTF-8"}, // an encoded surrogate
		{strings.Repeat("x", 257), "user id is longer than 256 bytes"},
	}
	for _, tt := range tests {
		if got := errString(checkID("user id", tt.in)); got != tt.err {
			t.Errorf("checkID(%q) = %q, want %q", tt.in, got, tt.err)
		}
	}
}
