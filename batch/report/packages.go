package report

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// PackageSumsFile lists, in access/, every access package of the reports
// with its SHA-256, in the format sha256sum writes and checks.
const PackageSumsFile = "SHA256SUMS"

// writePackages writes an access package for every finished access
// request of the selection that has none in dir yet (a finished access
// request never changes, so an existing package is kept), then
// SHA256SUMS over all of the selection's packages. It returns how many
// packages the selection has.
func writePackages(ctx context.Context, dir string, src Source, sel Selection, zone *time.Location) (int, error) {
	var ids []string
	err := src.ReportRequests(ctx, sel, func(r RequestRow) error {
		if r.RequestType == "access" && r.Status == "done" {
			ids = append(ids, r.RequestID)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("access packages: %w", err)
	}
	if err := makePrivateDir(dir); err != nil {
		return 0, fmt.Errorf("access packages: %w", err)
	}
	var have []string
	for _, id := range ids {
		if _, err := os.Stat(filepath.Join(dir, PackageName(id))); err == nil {
			have = append(have, id)
			continue
		}
		wrote, err := writePackage(ctx, dir, src, id, zone)
		if err != nil {
			return 0, err
		}
		if wrote {
			have = append(have, id)
		}
	}
	return len(have), writeSums(dir, have)
}

// writePackage renders one request's package from the ledger. A request
// whose personal data were purged has no profiles left: it gets none.
func writePackage(ctx context.Context, dir string, src Source, id string, zone *time.Location) (bool, error) {
	one := Selection{RequestIDs: []string{id}, Now: time.Now()}
	var profiles []ProfileRow
	if err := src.ReportProfiles(ctx, one, func(p ProfileRow) error { profiles = append(profiles, p); return nil }); err != nil {
		return false, fmt.Errorf("access package of %s: %w", id, err)
	}
	if len(profiles) == 0 {
		return false, nil
	}
	_, _, err := WriteAccessPackage(dir, AccessPackage{RequestID: id, Zone: zone, Profiles: profiles,
		Events: func(fn func(EventRow) error) error { return src.ReportEvents(ctx, one, fn) }})
	return err == nil, err
}

// writeSums writes SHA256SUMS for the packages of ids, sorted by name.
func writeSums(dir string, ids []string) error {
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = PackageName(id)
	}
	slices.Sort(names)
	digests, err := Digest(dir, names)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, PackageSumsFile), func(w io.Writer) error {
		for _, d := range digests {
			if _, err := fmt.Fprintf(w, "%s  %s\n", d.SHA256, d.Name); err != nil {
				return err
			}
		}
		return nil
	})
}

// VerifyPackages checks the access packages of dir against its
// SHA256SUMS and returns one line per package missing or changed.
func VerifyPackages(dir string) ([]string, error) {
	f, err := os.Open(filepath.Join(dir, PackagesDir, PackageSumsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var want []FileDigest
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || strings.ContainsAny(name, `/\`) || name == "" || name[0] == '.' {
			return nil, fmt.Errorf("%s: malformed line %q", PackageSumsFile, sc.Text())
		}
		want = append(want, FileDigest{Name: PackagesDir + "/" + name, SHA256: sum, Size: -1})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return Verify(dir, want), nil
}
