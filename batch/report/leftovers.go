package report

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
)

// tempName matches the temporary files the writers here create next to
// their target: "." + the target's name + "." + digits + ".tmp".
var tempName = regexp.MustCompile(`^\.(.+)\.[0-9]+\.tmp$`)

// RemoveLeftovers deletes, in dir and its access/ packages directory, the
// temporary files a killed write of these reports left behind. Only names
// this package writes are touched; a leftover is one that never got
// renamed into place, whatever its age (one run at a time writes a
// ledger's reports).
func RemoveLeftovers(dir string) error {
	for _, d := range []string{dir, filepath.Join(dir, PackagesDir)} {
		entries, err := os.ReadDir(d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("list %s for leftovers: %w", d, err)
		}
		for _, e := range entries {
			m := tempName.FindStringSubmatch(e.Name())
			if m == nil || !ours(d == dir, m[1]) {
				continue
			}
			// The workbook builds its parts in a temporary directory.
			if !e.Type().IsRegular() && !(e.IsDir() && m[1] == WorkbookFile) {
				continue
			}
			if err := os.RemoveAll(filepath.Join(d, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove leftover %s: %w", e.Name(), err)
			}
		}
	}
	return nil
}

// ours reports whether name is a file these reports write: in the top
// directory one of Files() (and the workbook), in access/ a package.
func ours(top bool, name string) bool {
	if !top {
		return isPackageName(name) || name == PackageSumsFile
	}
	for _, f := range Files() {
		if f == name {
			return true
		}
	}
	return name == WorkbookFile
}
