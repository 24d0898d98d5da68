package report

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
	"time"
)

// The files of an access package, in the order they are written.
const (
	ProfileFile      = "profile.json"
	EventsCSVFile    = "events.csv"
	EventsJSONFile   = "events.json"
	AccessReadmeFile = "README.txt"
)

// AccessPackage is what one access request's package is made of.
type AccessPackage struct {
	// RequestID names the package (see PackageName). Every profile and
	// event must belong to it: a package goes to one data subject.
	RequestID string
	// Retrieved is when the data was read from CleverTap. Zero means the
	// latest RetrievedAt of Profiles; with no profiles it must be set.
	Retrieved time.Time
	// Zone is the CleverTap account's time zone, required: event times
	// are given in UTC and in this zone. Use time.UTC for a UTC account.
	Zone *time.Location
	// Profiles are every profile found; none is a valid answer.
	Profiles []ProfileRow
	// Events calls fn for every event of the request, in a stable order,
	// and returns the first error fn returns. It is called once per
	// events file, so it must give the same events each time; events are
	// streamed, never held together in memory. Nil means no events.
	Events func(fn func(EventRow) error) error
}

// AccessCounts is what a written package holds.
type AccessCounts struct {
	Profiles int
	Events   int64
}

// WriteAccessPackage writes p as dir/PackageName(p.RequestID), where dir
// is conventionally filepath.Join(out, PackagesDir); dir is created mode
// 0700 (and tightened to it if group or others could enter it). The zip
// is written atomically, mode 0600, and holds, in this order:
//
//   - profile.json: the request id, when the data was retrieved, and every
//     profile, its JSON payloads embedded as JSON (a payload that is not
//     valid JSON is kept as a string; an empty one is null);
//   - events.csv: one row per event, UTF-8 with a byte-order mark so Excel
//     reads it right, values that look like formulas prefixed with an
//     apostrophe (see cells.go);
//   - events.json: the same events, as a JSON array with exact values;
//   - README.txt: what each file holds, for which request, when it was
//     retrieved, how many profiles and events, the account time zone, and
//     that it is personal data for the data subject alone.
//
// Each event's time is given in UTC and in p.Zone, ISO 8601. Entries are
// stamped with the retrieval time, so the same input gives the same bytes.
// It returns the package's path and counts; on error nothing is left at
// the path but what was there before.
func WriteAccessPackage(dir string, p AccessPackage) (string, AccessCounts, error) {
	path := filepath.Join(dir, PackageName(p.RequestID))
	counts := AccessCounts{Profiles: len(p.Profiles)}
	retrieved, err := p.check()
	if err != nil {
		return path, counts, fmt.Errorf("access package %s: %w", path, err)
	}
	if err := makePrivateDir(dir); err != nil {
		return path, counts, fmt.Errorf("access package %s: %w", path, err)
	}
	pw := packageWriter{p: p, retrieved: retrieved}
	if err := writeAtomic(path, pw.write); err != nil {
		return path, counts, fmt.Errorf("access package: %w", err) // the error names the path
	}
	counts.Events = pw.events
	return path, counts, nil
}

// sha256 renders p in memory and returns the hex SHA-256 of the zip
// WriteAccessPackage would write.
func (p AccessPackage) sha256() (string, error) {
	retrieved, err := p.check()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	pw := packageWriter{p: p, retrieved: retrieved}
	if err := pw.write(h); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// check validates p and returns its retrieval time in UTC.
func (p AccessPackage) check() (time.Time, error) {
	if p.RequestID == "" {
		return time.Time{}, errors.New("no request id")
	}
	if p.Zone == nil {
		return time.Time{}, errors.New("no account time zone (use time.UTC for a UTC account)")
	}
	retrieved := p.Retrieved
	for i, pr := range p.Profiles {
		if pr.RequestID != p.RequestID {
			return time.Time{}, fmt.Errorf("profile %d belongs to another request", i+1)
		}
		if p.Retrieved.IsZero() && pr.RetrievedAt.After(retrieved) {
			retrieved = pr.RetrievedAt
		}
	}
	if retrieved.IsZero() {
		return time.Time{}, errors.New("retrieval time unknown: set Retrieved")
	}
	return retrieved.UTC(), nil
}

// makePrivateDir creates dir (and parents) mode 0700, and takes group and
// other permissions off dir itself if it already had them.
func makePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create directory: %w", err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("create directory: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("make directory private: %w", err)
		}
	}
	return nil
}

// packageWriter writes one package's entries.
type packageWriter struct {
	p         AccessPackage
	retrieved time.Time
	events    int64
}

// entry is one file of the package and how it is written.
type entry struct {
	name  string
	write func(io.Writer) error
}

func (pw *packageWriter) write(w io.Writer) error {
	zw := zip.NewWriter(w)
	var csvEvents, jsonEvents eventTally
	entries := []entry{
		{ProfileFile, pw.writeProfiles},
		{EventsCSVFile, func(w io.Writer) error { return pw.writeEventsCSV(w, &csvEvents) }},
		{EventsJSONFile, func(w io.Writer) error { return pw.writeEventsJSON(w, &jsonEvents) }},
		{AccessReadmeFile, func(w io.Writer) error {
			if csvEvents != jsonEvents {
				return fmt.Errorf("the events source gave other events on its second call (%d, then %d): it must give the same events every time",
					csvEvents.n, jsonEvents.n)
			}
			pw.events = csvEvents.n
			return pw.writeReadme(w)
		}},
	}
	for _, e := range entries {
		fh := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: pw.retrieved}
		fh.SetMode(0o600)
		f, err := zw.CreateHeader(fh)
		if err != nil {
			return fmt.Errorf("%s: %w", e.name, err)
		}
		if err := e.write(f); err != nil {
			return fmt.Errorf("%s: %w", e.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("finish zip: %w", err)
	}
	return nil
}

// eachEvent calls fn for every event of the package, checking that each
// belongs to its request, and tallies them in t.
func (pw *packageWriter) eachEvent(t *eventTally, fn func(EventRow) error) error {
	if pw.p.Events == nil {
		return nil
	}
	return pw.p.Events(func(e EventRow) error {
		if e.RequestID != pw.p.RequestID {
			return fmt.Errorf("event %d belongs to another request", t.n+1)
		}
		t.add(e)
		return fn(e)
	})
}

// eventTally counts events and fingerprints them, so that the two passes
// over the events source can be checked to have seen the same events.
type eventTally struct {
	n   int64
	sum uint64
}

// tallySeed is fixed for the process: fingerprints are only compared
// within one package.
var tallySeed = maphash.MakeSeed()

func (t *eventTally) add(e EventRow) {
	var h maphash.Hash
	h.SetSeed(tallySeed)
	for _, s := range []string{e.ObjectID, e.Identity, e.Email, e.EventName, e.EventPropsJSON, e.SessionPropsJSON} {
		h.WriteString(s)
		h.WriteByte(0)
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(e.EventTime.UnixNano()))
	h.Write(b[:])
	t.n++
	t.sum += h.Sum64() // order-independent; count and content are what matter
}
