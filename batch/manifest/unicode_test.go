package manifest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// hygieneRows is one manifest, written in every format by
// TestReadUnicodeHygiene: invisible and bidi characters in ids and emails,
// an email in NFD and NFC, whitespace to trim, case to keep.
var hygieneRows = [][]any{
	{"Request ID", "Type", "Email", "User ID"},
	{"H-1", "access", nil, "u-1\u200b"},                     // 2: ZERO WIDTH SPACE at the end
	{"H-\u202e2", "deletion", "h2@example.com", nil},        // 3: RIGHT-TO-LEFT OVERRIDE
	{"H-3", "access", nil, "u-\ufeff3"},                     // 4: a BOM inside the value
	{"H-4", "access", "jose\u0301@example.com", nil},        // 5: NFD
	{"H-4", "access", "Jos\u00e9@Example.com", nil},         // 6: the same in NFC, other case: merged
	{"H-5", "deletion", "JOSE\u0301@EXAMPLE.COM", "U-Jose"}, // 7: same subject, own request; user id case kept
	{"H-6", "access", "h6\u200d@example.com", nil},          // 8: ZERO WIDTH JOINER in an email
	{"H-7", "access", nil, "u-\u00ad7"},                     // 9: SOFT HYPHEN
	{"\u00a0H-8\u3000", "access", nil, " u-8\u00a0"},        // 10: Unicode spaces around: trimmed
	{"H-9", "access", nil, "u-\ufffd9"},                     // 11: a replacement character
	{"H-10", "access", nil, "u\u0085-10"},                   // 12: NEXT LINE (C1 control) inside
	{"H-11\u2066", "access", "h11@example.com", nil},        // 13: LEFT-TO-RIGHT ISOLATE
	{"H-12", "access", nil, "u\u200e-12"},                   // 14: LEFT-TO-RIGHT MARK
}

// hygieneOutcome is what every format must give for hygieneRows.
var hygieneOutcome = map[int]string{
	2:  "reject H-1 [user_id]: user id contains an invisible format character (U+200B ZERO WIDTH SPACE)",
	3:  "reject  [request_id]: request id contains a bidirectional text control (U+202E RIGHT-TO-LEFT OVERRIDE)",
	4:  "reject H-3 [user_id]: user id contains an invisible format character (U+FEFF ZERO WIDTH NO-BREAK SPACE, a byte-order mark)",
	5:  "H-4 access email=jos\u00e9@example.com",
	6:  "merge H-4 into row 5",
	7:  "H-5 deletion email=jos\u00e9@example.com user=U-Jose",
	8:  "reject H-6 [email]: not a valid email address: contains an invisible format character (U+200D ZERO WIDTH JOINER)",
	9:  "reject H-7 [user_id]: user id contains an invisible format character (U+00AD SOFT HYPHEN)",
	10: "H-8 access user=u-8",
	11: "reject H-9 [user_id]: user id contains U+FFFD REPLACEMENT CHARACTER, the mark of bytes lost to a wrong encoding; export the file again as UTF-8",
	12: "reject H-10 [user_id]: user id contains a control character (U+0085 NEXT LINE)",
	13: "reject  [request_id]: request id contains a bidirectional text control (U+2066 LEFT-TO-RIGHT ISOLATE)",
	14: "reject H-12 [user_id]: user id contains a bidirectional text control (U+200E LEFT-TO-RIGHT MARK)",
}

// TestReadUnicodeHygiene reads the same manifest as CSV, xlsx and Parquet
// through Read: each row ends in exactly one place, with the same outcome
// in every format.
func TestReadUnicodeHygiene(t *testing.T) {
	for _, format := range []Format{CSV, XLSX, Parquet} {
		t.Run(string(format), func(t *testing.T) {
			path := mustWriteManifest(t, t.TempDir(), format, hygieneRows)
			info, rows := mustRead(t, path, Options{})
			if d := diffOutcomes(outcomes(rows), hygieneOutcome); d != "" {
				t.Errorf("outcomes differ:\n%s", d)
			}
			if got, want := [3]int{info.Accepted, info.Merged, info.Rejected}, [3]int{3, 1, 9}; got != want {
				t.Errorf("Accepted, Merged, Rejected = %v, want %v", got, want)
			}
			byRow := map[int]Row{}
			for _, r := range rows {
				byRow[r.Source.Row] = r
			}
			nfd, nfc, other := byRow[5].Request, byRow[6].Request, byRow[7].Request
			if nfd == nil || nfc == nil || other == nil {
				t.Fatalf("rows 5, 6, 7 = %v, %v, %v; want requests", nfd, nfc, other)
			}
			if nfd.ContentHash() != nfc.ContentHash() || nfd.Email != other.Email {
				t.Errorf("NFD and NFC rows: hashes %s, %s, emails %q, %q; want one hash and one subject",
					nfd.ContentHash()[:12], nfc.ContentHash()[:12], nfd.Email, other.Email)
			}
			for _, r := range rows {
				if r.Reject != nil && strings.Contains(r.Reject.Reason, "@") {
					t.Errorf("row %d: reason %q repeats an email", r.Source.Row, r.Reject.Reason)
				}
			}
		})
	}
}

// TestReadInvalidUTF8 puts bytes that are not UTF-8 in ids and emails where
// the format can carry them: the row is rejected, never read with U+FFFD
// in place of the bytes.
func TestReadInvalidUTF8(t *testing.T) {
	const (
		notUTF8    = "user id is not UTF-8 text; save the file as UTF-8"
		idNotUTF8  = "request id is not UTF-8 text; save the file as UTF-8"
		mailNoUTF8 = "not a valid email address: not UTF-8 text"
		replaced   = "user id contains U+FFFD REPLACEMENT CHARACTER, the mark of bytes lost to a wrong encoding; export the file again as UTF-8"
	)
	rows := [][]any{
		{"id", "type", "email", "uid"},
		{"B-1", "access", nil, "u-\xff1"},
		{"B-2\xc3", "access", "b2@example.com", nil},
		{"B-3", "access", "b3\xe9@example.com", nil},
		{"B-4", "access", nil, "u-4"},
	}
	tests := []struct {
		format Format
		want   map[int]string
	}{
		// Parquet strings are bytes: read as they are.
		{Parquet, map[int]string{
			2: "reject B-1 [user_id]: " + notUTF8,
			3: "reject  [request_id]: " + idNotUTF8,
			4: "reject B-3 [email]: " + mailNoUTF8,
			5: "B-4 access user=u-4",
		}},
		// excelize writes U+FFFD for bytes that are not UTF-8 (encoding/xml
		// escaping), so the workbook holds an altered id: it is refused.
		{XLSX, map[int]string{
			2: "reject B-1 [user_id]: " + replaced,
			3: "reject  [request_id]: request id contains U+FFFD REPLACEMENT CHARACTER, the mark of bytes lost to a wrong encoding; export the file again as UTF-8",
			4: "reject B-3 [email]: not a valid email address: contains U+FFFD REPLACEMENT CHARACTER, the mark of bytes lost to a wrong encoding; export the file again as UTF-8",
			5: "B-4 access user=u-4",
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.format), func(t *testing.T) {
			_, got := mustRead(t, mustWriteManifest(t, t.TempDir(), tt.format, rows), Options{})
			if d := diffOutcomes(outcomes(got), tt.want); d != "" {
				t.Errorf("outcomes differ:\n%s", d)
			}
		})
	}

	// CSV: the first 64 KiB decide whether the file is UTF-8 text at all;
	// past them, a bad byte is one row's problem.
	t.Run("csv", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("id,type,email,uid\n")
		n := 0
		for ; b.Len() < 70<<10; n++ {
			fmt.Fprintf(&b, "P-%d,access,,u-%d\n", n, n)
		}
		for _, r := range rows[1:] {
			fmt.Fprintf(&b, "%s,%s,%s,%s\n", r[0], r[1], cellText(r[2]), cellText(r[3]))
		}
		path := writeFile(t, t.TempDir()+"/m.csv", []byte(b.String()))
		info, got := mustRead(t, path, Options{})
		want := map[int]string{
			n + 2: "reject B-1 [user_id]: " + notUTF8,
			n + 3: "reject  [request_id]: " + idNotUTF8,
			n + 4: "reject B-3 [email]: " + mailNoUTF8,
			n + 5: "B-4 access user=u-4",
		}
		tail := map[int]string{}
		for row, o := range outcomes(got) {
			if row >= n+2 {
				tail[row] = o
			}
		}
		if d := diffOutcomes(tail, want); d != "" {
			t.Errorf("outcomes differ:\n%s", d)
		}
		if info.Rejected != 3 || info.Accepted != n+1 {
			t.Errorf("Accepted, Rejected = %d, %d; want %d, 3", info.Accepted, info.Rejected, n+1)
		}

		small := writeFile(t, t.TempDir()+"/small.csv", []byte("id,type,uid\nB-1,access,u-\xff1\n"))
		if _, _, err := readAll(t, small, Options{}); !errors.Is(err, ErrUnsupported) {
			t.Errorf("a short file with a byte that is not UTF-8: err = %v; want ErrUnsupported", err)
		}
	})
}

func cellText(c any) string {
	if c == nil {
		return ""
	}
	return c.(string)
}
