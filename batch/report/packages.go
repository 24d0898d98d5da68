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

// writePackages makes dir hold exactly the access packages of the
// selection, and SHA256SUMS over them. Every finished access request of
// the selection gets its package rendered from the ledger, every time: a
// package already on disk is never trusted, since it may have been changed
// (its new digest would then be listed as genuine) or may hold personal
// data purged since (a purged request gets no package, and its old one is
// removed). Packages of requests no longer in the selection are removed
// too; only regular files named as PackageName names them are touched.
// It returns how many packages the selection has.
func writePackages(ctx context.Context, dir string, src Source, sel Selection, zone *time.Location) (int, error) {
	ids, err := packageIDs(ctx, src, sel)
	if err != nil {
		return 0, fmt.Errorf("access packages: %w", err)
	}
	if err := makePrivateDir(dir); err != nil {
		return 0, fmt.Errorf("access packages: %w", err)
	}
	selected := make(map[string]bool, len(ids))
	for _, id := range ids {
		selected[PackageName(id)] = true
	}
	// Packages outside the selection go first, so that a write failing
	// below leaves no more personal data on disk than the ledger holds.
	if err := removePackagesBut(dir, selected); err != nil {
		return 0, fmt.Errorf("access packages: %w", err)
	}
	var have []string
	for _, id := range ids {
		p, ok, err := loadPackage(ctx, src, id, zone)
		if err != nil {
			return 0, err
		}
		if !ok {
			if err := removePackage(dir, PackageName(id)); err != nil {
				return 0, fmt.Errorf("access packages: %w", err)
			}
			continue
		}
		if _, _, err := WriteAccessPackage(dir, p); err != nil {
			return 0, err
		}
		have = append(have, id)
	}
	return len(have), writeSums(dir, have)
}

// packageIDs lists the finished access requests of sel, in the Source's
// order: the requests that have a package unless their data were purged.
func packageIDs(ctx context.Context, src Source, sel Selection) ([]string, error) {
	var ids []string
	err := src.ReportRequests(ctx, sel, func(r RequestRow) error {
		if r.RequestType == "access" && r.Status == "done" {
			ids = append(ids, r.RequestID)
		}
		return nil
	})
	return ids, err
}

// loadPackage reads one request's package from the ledger; its events are
// streamed when it is written. A request whose personal data were purged
// has no profiles left: it gets no package (false).
func loadPackage(ctx context.Context, src Source, id string, zone *time.Location) (AccessPackage, bool, error) {
	one := Selection{RequestIDs: []string{id}, Now: time.Now()}
	var profiles []ProfileRow
	if err := src.ReportProfiles(ctx, one, func(p ProfileRow) error { profiles = append(profiles, p); return nil }); err != nil {
		return AccessPackage{}, false, fmt.Errorf("access package of %s: %w", PackageName(id), err)
	}
	if len(profiles) == 0 {
		return AccessPackage{}, false, nil
	}
	return AccessPackage{RequestID: id, Zone: zone, Profiles: profiles,
		Events: func(fn func(EventRow) error) error { return src.ReportEvents(ctx, one, fn) }}, true, nil
}

// removePackagesBut removes from dir every package not in keep. Only
// regular files whose names PackageName could have given are removed:
// anything else someone put in access/ is left alone.
func removePackagesBut(dir string, keep map[string]bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list packages: %w", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !isPackageName(e.Name()) || keep[e.Name()] {
			continue
		}
		if err := removePackage(dir, e.Name()); err != nil {
			return err
		}
	}
	return nil
}

// removePackage removes the package dir/name if it is there.
func removePackage(dir, name string) error {
	if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove package %s: %w", name, err)
	}
	return nil
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
// SHA256SUMS and returns one line per package missing, changed, or in
// access/ without being listed.
func VerifyPackages(dir string) ([]string, error) {
	want, err := readSums(dir)
	if want == nil || err != nil {
		return nil, err
	}
	problems := Verify(dir, want)
	listed := make(map[string]bool, len(want))
	for _, d := range want {
		listed[d.Name] = true
	}
	entries, err := os.ReadDir(filepath.Join(dir, PackagesDir))
	if err != nil {
		return nil, fmt.Errorf("list packages: %w", err)
	}
	for _, e := range entries {
		if name := PackagesDir + "/" + e.Name(); e.Type().IsRegular() && isPackageName(e.Name()) && !listed[name] {
			problems = append(problems, name+": not listed in "+PackageSumsFile)
		}
	}
	return problems, nil
}

// readSums reads access/SHA256SUMS of dir: the packages it lists, named
// relative to dir, with unknown sizes. No file is nil and no error.
func readSums(dir string) ([]FileDigest, error) {
	f, err := os.Open(filepath.Join(dir, PackagesDir, PackageSumsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	want := []FileDigest{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || strings.ContainsAny(name, `/\`) || name == "" || name[0] == '.' {
			return nil, fmt.Errorf("%s: malformed line %q", PackageSumsFile, sc.Text())
		}
		want = append(want, FileDigest{Name: PackagesDir + "/" + name, SHA256: sum, Size: -1})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", PackageSumsFile, err)
	}
	return want, nil
}

// VerifyPackagesWithLedger checks the access packages dir's SHA256SUMS
// lists against the ledger src, in the account time zone zone: each must
// be the package of a finished access request whose data the ledger still
// holds, and its listed SHA-256 that of the package rendered afresh from
// the ledger (packages are reproducible). It returns one line per package
// that is not; VerifyPackages checks the files against the list.
func VerifyPackagesWithLedger(ctx context.Context, dir string, src Source, zone *time.Location) ([]string, error) {
	listed, err := readSums(dir)
	if len(listed) == 0 || err != nil {
		return nil, err
	}
	ids, err := packageIDs(ctx, src, Selection{All: true, Now: time.Now()})
	if err != nil {
		return nil, fmt.Errorf("access packages: %w", err)
	}
	byName := make(map[string]string, len(ids))
	for _, id := range ids {
		byName[PackagesDir+"/"+PackageName(id)] = id
	}
	var problems []string
	for _, d := range listed {
		id, ok := byName[d.Name]
		if !ok {
			problems = append(problems, d.Name+": no finished access request of the ledger has this package")
			continue
		}
		p, ok, err := loadPackage(ctx, src, id, zone)
		if err != nil {
			return nil, err
		}
		if !ok {
			problems = append(problems, d.Name+": the ledger holds no personal data for this request any more (purged): the package should be gone")
			continue
		}
		sum, err := p.sha256()
		if err != nil {
			return nil, fmt.Errorf("access package %s: %w", d.Name, err)
		}
		if sum != d.SHA256 {
			problems = append(problems, fmt.Sprintf("%s: SHA-256 %s, rendered from the ledger %s", d.Name, d.SHA256, sum))
		}
	}
	return problems, nil
}
