package report

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
)

// hostileIDs are request ids a manifest should never let through, and
// some it does; PackageName must cope with all of them.
var hostileIDs = []string{
	"../../etc/passwd", "a/b", `a\b`, "..", ".", ".hidden", "CON", "con", "LPT1", "nul", "COM9",
	strings.Repeat("x", 300), strings.Repeat("x", 299) + "y", strings.Repeat("é", 150),
	"right\u202Eto-left", "nul\x00byte", "x\ny", "-rf", "a b", "a%2Fb", "a_b", "~", "Zoë", "Zoe\u0308",
	"R-1001", "r-1001",
}

func TestPackageName(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct {
		id, want string
	}{
		{"R-1001", "R-1001.zip"},
		{"DSR_2024-0001", "DSR_2024-0001.zip"},
		{"../../etc/passwd", "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd.zip"},
		{"a/b", "a%2Fb.zip"},
		{"a%2Fb", "a%252Fb.zip"},
		{"..", "%2E%2E.zip"},
		{".hidden", "%2Ehidden.zip"},
		{"CON", "%43ON.zip"},
		{"lpt1", "%6Cpt1.zip"},
		{"CONSOLE", "CONSOLE.zip"},
		{"-rf", "%2Drf.zip"},
		{"a-b", "a-b.zip"},
		{"x\ny", "x%0Ay.zip"},
		{"nul\x00byte", "nul%00byte.zip"},
		{"a\u202Eb", "a%E2%80%AEb.zip"},
		{"Zoë", "Zo%C3%AB.zip"},
		{"", "~.zip"},
		{long, strings.Repeat("x", 96) + "~" + sha256Hex(long)[:16] + ".zip"},
		// The cut falls inside "%2F" (bytes 95–97): it moves back before it.
		{strings.Repeat("x", 95) + "/" + long, strings.Repeat("x", 95) + "~" + sha256Hex(strings.Repeat("x", 95) + "/" + long)[:16] + ".zip"},
	}
	for _, tt := range tests {
		if got := PackageName(tt.id); got != tt.want {
			t.Errorf("PackageName(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}
}

func TestPackageNamesAreSafeAndDistinct(t *testing.T) {
	ids := slices.Clone(hostileIDs)
	// Long ids that differ only after the kept prefix, or in where an
	// escape falls at the cut.
	for _, tail := range []string{"a", "b", "/", "é", "%"} {
		ids = append(ids, strings.Repeat("x", 200)+tail, strings.Repeat("x", keepLen-1)+tail+"yyyyyyyyyyyyyyyyyyyyyyyy")
	}
	seen := map[string]string{}
	for _, id := range ids {
		name := PackageName(id)
		if other, dup := seen[name]; dup {
			t.Errorf("%q and %q both map to %q", id, other, name)
		}
		seen[name] = id
		stem, ok := strings.CutSuffix(name, ".zip")
		switch {
		case !ok || stem == "":
			t.Errorf("%q → %q: want a non-empty name ending .zip", id, name)
		case len(name) > maxStemLen+len(".zip"):
			t.Errorf("%q → %q: %d bytes, want at most %d", id, name, len(name), maxStemLen+4)
		case filepath.Base(name) != name || strings.ContainsAny(name, `/\:`) || strings.Contains(stem, "."):
			t.Errorf("%q → %q: a separator or dot", id, name)
		case name[0] == '.' || name[0] == '-':
			t.Errorf("%q → %q: leading %q", id, name, name[0])
		case strings.ContainsFunc(stem, func(r rune) bool { return !isNameByte(byte(r)) && r != '%' && r != '~' || r > unicode.MaxASCII }):
			t.Errorf("%q → %q: a character outside [A-Za-z0-9_%%~-]", id, name)
		case windowsDevice(stem):
			t.Errorf("%q → %q: a Windows device name", id, name)
		}
		// An escape is never split by the cut.
		if i := strings.IndexByte(stem, '~'); i > 0 && (strings.LastIndexByte(stem[:i], '%') > i-3) {
			t.Errorf("%q → %q: the cut splits an escape", id, name)
		}
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Writing a package for every hostile id fills one directory with one
// file each, and nothing outside it.
func TestHostileIDsStayInTheDirectory(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "out", PackagesDir)
	for _, id := range hostileIDs {
		path, _, err := WriteAccessPackage(dir, AccessPackage{RequestID: id, Retrieved: time.Now(), Zone: time.UTC})
		if err != nil {
			t.Fatalf("%q: %v", id, err)
		}
		if filepath.Dir(path) != dir {
			t.Errorf("%q written at %s, outside %s", id, path, dir)
		}
	}
	if got := dirEntries(t, dir); len(got) != len(hostileIDs) {
		t.Errorf("%d files for %d ids: %q", len(got), len(hostileIDs), got)
	}
	if got := dirEntries(t, root); !slices.Equal(got, []string{"out"}) {
		t.Errorf("%s holds %q, want only out", root, got)
	}
	if got := dirEntries(t, filepath.Join(root, "out")); !slices.Equal(got, []string{PackagesDir}) {
		t.Errorf("out holds %q, want only %s", got, PackagesDir)
	}
	if _, err := os.Stat(filepath.Join(root, "etc")); err == nil {
		t.Error("../../etc/passwd escaped the directory")
	}
}

// isPackageName recognises every name PackageName gives, and nothing a
// person would put in access/ by another hand: only such names are ever
// replaced or removed there.
func TestIsPackageName(t *testing.T) {
	for _, id := range append(slices.Clone(hostileIDs), "", strings.Repeat("%", 200), strings.Repeat("x", 113)) {
		if name := PackageName(id); !isPackageName(name) {
			t.Errorf("isPackageName(PackageName(%q) = %q) is false", id, name)
		}
	}
	for _, name := range []string{
		PackageSumsFile, "notes.txt", "a.b.zip", ".x.zip", "-x.zip", "x.ZIP", "x%2f.zip", "x%2.zip", "x y.zip",
		".x.zip.123.tmp", "x.zip.tmp", "~~.zip", "x~0123.zip", strings.Repeat("x", 114) + ".zip", ".zip", "",
	} {
		if isPackageName(name) {
			t.Errorf("isPackageName(%q) is true: PackageName never gives it", name)
		}
	}
}
