package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"

	"github.com/ctdsr/ctdsr/batch"
)

// Verdict is what a Deduper says about a request.
type Verdict int

// Verdicts of Deduper.Add.
const (
	Unique   Verdict = iota // the request id is new
	Repeat                  // same id, same content as the first: merge it
	Conflict                // same id, different content: reject the later row
)

// Deduper remembers the request ids of one invocation, across all its
// manifests, to merge repeats and reject conflicts. It is safe for
// concurrent use.
//
// It keeps about 50 bytes per id, not the ids themselves: a 128-bit hash of
// the id, a 64-bit prefix of the content hash and where the id was first
// seen. A million ids take well under 100 MB.
type Deduper struct {
	mu    sync.Mutex
	seen  map[[16]byte]firstSeen
	files []string
	index map[string]uint32
}

type firstSeen struct {
	content uint64
	file    uint32
	row     uint32
}

// NewDeduper returns an empty Deduper.
func NewDeduper() *Deduper {
	return &Deduper{seen: map[[16]byte]firstSeen{}, index: map[string]uint32{}}
}

// Add records req, read at req.Source. For a request id seen before it
// returns where it was first seen and whether the content is the same.
func (d *Deduper) Add(req *batch.Request) (first batch.SourceRef, v Verdict) {
	sum := sha256.Sum256([]byte(req.ID))
	var key [16]byte
	copy(key[:], sum[:])
	content := contentPrefix(req)

	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.seen[key]; ok {
		first = batch.SourceRef{File: d.files[s.file], Row: int(s.row)}
		if s.content == content {
			return first, Repeat
		}
		return first, Conflict
	}
	d.seen[key] = firstSeen{content: content, file: d.fileIndex(req.Source.File), row: uint32(req.Source.Row)}
	return batch.SourceRef{}, Unique
}

// Len is the number of distinct request ids seen.
func (d *Deduper) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.seen)
}

func (d *Deduper) fileIndex(name string) uint32 {
	if i, ok := d.index[name]; ok {
		return i
	}
	i := uint32(len(d.files))
	d.files = append(d.files, name)
	d.index[name] = i
	return i
}

// contentPrefix is the first 64 bits of the request's content hash.
func contentPrefix(req *batch.Request) uint64 {
	var b [8]byte
	hex.Decode(b[:], []byte(req.ContentHash()[:16]))
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}
