package report

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
)

// PackageName is the file name of a request's access package, whatever
// the request id holds:
//
//   - ASCII letters, digits, '-' and '_' are kept ("R-1001" → "R-1001.zip");
//     every other byte, and a leading '-', becomes %XX (upper-case hex of
//     the UTF-8 byte), so "a/b" → "a%2Fb.zip" and "../x" → "%2E%2E%2Fx.zip".
//     A name never holds a path separator, a dot before ".zip", a control
//     or format character or non-ASCII text (no Unicode normalisation
//     surprises), and never starts with '.' or '-'.
//   - A name that Windows reserves for a device (CON, PRN, AUX, NUL,
//     COM0–COM9, LPT0–LPT9, in any case) has its first letter escaped:
//     "CON" → "%43ON.zip".
//   - An escaped id longer than 113 bytes keeps its first 96 bytes (never
//     splitting an escape) followed by '~' and 16 hex digits of the
//     SHA-256 of the id; names are at most 117 bytes.
//   - The empty id, which no request has, is "~.zip".
//
// Names of different ids differ: the escaping is reversible, and '~'
// appears only in shortened names, which also differ unless two ids
// share 96 escaped bytes and a 64-bit hash. File systems that ignore case
// (Windows, macOS by default) see "R-a.zip" and "R-A.zip" as one file.
func PackageName(requestID string) string {
	if requestID == "" {
		return "~.zip"
	}
	stem := escapeID(requestID)
	switch {
	case len(stem) > maxStemLen:
		cut := keepLen
		if i := strings.LastIndexByte(stem[cut-2:cut], '%'); i >= 0 { // an escape would be split
			cut = cut - 2 + i
		}
		sum := sha256.Sum256([]byte(requestID))
		stem = stem[:cut] + "~" + hex.EncodeToString(sum[:hashLen/2])
	case windowsDevice(stem):
		stem = escapeByte(stem[0]) + stem[1:]
	}
	return stem + ".zip"
}

// The bounds of a package name's stem (the name less ".zip").
const (
	keepLen    = 96 // bytes of the escaped id a shortened name keeps
	hashLen    = 16 // hex digits of SHA-256 after '~'
	maxStemLen = keepLen + 1 + hashLen
)

// escapeID keeps [A-Za-z0-9_-] and writes every other byte, and a leading
// '-', as %XX.
func escapeID(id string) string {
	var b strings.Builder
	for i := 0; i < len(id); i++ {
		c := id[i]
		if isNameByte(c) && !(i == 0 && c == '-') {
			b.WriteByte(c)
			continue
		}
		b.WriteString(escapeByte(c))
	}
	return b.String()
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

func escapeByte(c byte) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{'%', digits[c>>4], digits[c&15]})
}

// windowsDevice reports whether stem is a name Windows reserves for a
// device. (Their forms with an extension, such as "CON.txt", cannot
// occur: dots are escaped.)
func windowsDevice(stem string) bool {
	switch strings.ToUpper(stem) {
	case "CON", "PRN", "AUX", "NUL":
		return true
	}
	if len(stem) == 4 && '0' <= stem[3] && stem[3] <= '9' {
		switch strings.ToUpper(stem[:3]) {
		case "COM", "LPT":
			return true
		}
	}
	return false
}

// packageNamePattern matches every name PackageName gives: "~.zip", or a
// stem of kept bytes and %XX escapes, not starting with '-', that a
// shortened name ends with '~' and hashLen lower-case hex digits.
var packageNamePattern = regexp.MustCompile(`^(?:~|(?:[A-Za-z0-9_]|%[0-9A-F]{2})(?:[A-Za-z0-9_-]|%[0-9A-F]{2})*(?:~[0-9a-f]{16})?)\.zip$`)

// isPackageName reports whether name is one PackageName could give, and
// so a file in access/ these reports may replace or remove.
func isPackageName(name string) bool {
	return len(name) <= maxStemLen+len(".zip") && packageNamePattern.MatchString(name)
}
