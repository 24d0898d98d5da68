package ctsim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/url"
	"strings"
	"time"
)

// A query is the frozen result of one step-1 call, served in pages.
type query struct {
	id       int64
	kind     string // "events" or "profiles"
	n        int
	render   func(i int) json.RawMessage // record i; reads only frozen data
	pageSize int
	created  time.Time
	lastUsed time.Time
	ttl      time.Duration
	idle     time.Duration // 0: no idle expiry
	tokens   []*cursorTok
}

func (q *query) expired(now time.Time) bool {
	return !now.Before(q.created.Add(q.ttl)) || (q.idle > 0 && !now.Before(q.lastUsed.Add(q.idle)))
}

// cursorTok is one cursor: a query and the offset of its page.
type cursorTok struct {
	q       *query
	offset  int
	prev    string // the raw cursor of the previous page; "" on the first
	next    string // the cursor of the next page, made on first fetch
	fetches int
	encoded string // as sent to clients, percent-encoded
	raw     string // decoded, kept to recognise a cursor sent decoded
}

// cursorStore holds the live queries and their cursors. The server's mutex
// guards it.
type cursorStore struct {
	short     bool // ~150-character cursors
	nextID    int64
	swept     time.Time // expire found nothing more to drop at this time
	queries   map[int64]*query
	byEncoded map[string]*cursorTok
	byRaw     map[string]*cursorTok
}

func newCursorStore(short bool) *cursorStore {
	return &cursorStore{short: short, queries: map[int64]*query{}, byEncoded: map[string]*cursorTok{}, byRaw: map[string]*cursorTok{}}
}

// open registers q and returns the cursor of its first page.
func (cs *cursorStore) open(q *query) *cursorTok {
	cs.nextID++
	q.id = cs.nextID
	cs.queries[q.id] = q
	return cs.newToken(q, 0, "")
}

// newToken makes the cursor for the page of q at offset; prev is the raw
// (decoded) cursor of the page before, "" for the first.
func (cs *cursorStore) newToken(q *query, offset int, prev string) *cursorTok {
	cs.nextID++
	var seed [24]byte
	binary.BigEndian.PutUint64(seed[0:], uint64(q.id))
	binary.BigEndian.PutUint64(seed[8:], uint64(offset))
	binary.BigEndian.PutUint64(seed[16:], uint64(cs.nextID))
	raw := cursorText(seed, cs.short)
	tok := &cursorTok{q: q, offset: offset, prev: prev, raw: raw, encoded: url.QueryEscape(raw)}
	q.tokens = append(q.tokens, tok)
	cs.byEncoded[tok.encoded] = tok
	cs.byRaw[tok.raw] = tok
	return tok
}

// cursorText makes a cursor that looks like CleverTap's: base64 of
// pseudo-random bytes that always holds '/' and '+' and ends in "==", so
// its percent-encoded form has %2F, %2B and %3D%3D. A real cursor is 1.5 to
// 2.4 KB encoded: 1102 to 1549 bytes give 1472 to 2068 base64 characters,
// about 1.6 to 2.2 KB once encoded. A short one is 144 characters.
func cursorText(seed [24]byte, short bool) string {
	n := 106 // 144 characters, "==" at the end
	if !short {
		n = 1102 + 3*int(seed[23]^seed[15]^seed[7])%150
	}
	buf := make([]byte, 0, n+32)
	for i := uint16(0); len(buf) < n; i++ {
		sum := sha256.Sum256(append(seed[:], byte(i), byte(i>>8)))
		buf = append(buf, sum[:]...)
	}
	raw := base64.StdEncoding.EncodeToString(buf[:n])
	return raw[:10] + "/" + raw[11:20] + "+" + raw[21:]
}

// expire drops the queries that have expired at now, and their cursors.
func (cs *cursorStore) expire(now time.Time) {
	// Expiry times only move later, so nothing new expires until the clock
	// moves.
	if !now.After(cs.swept) && !cs.swept.IsZero() {
		return
	}
	cs.swept = now
	for id, q := range cs.queries {
		if !q.expired(now) {
			continue
		}
		for _, t := range q.tokens {
			delete(cs.byEncoded, t.encoded)
			delete(cs.byRaw, t.raw)
		}
		delete(cs.queries, id)
	}
}

// cursorLookup is how a cursor as received resolved.
type cursorLookup int

const (
	cursorOK      cursorLookup = iota
	cursorMangled              // a known cursor, decoded or encoded again
	cursorUnknown              // never issued, or expired
)

// lookup finds the cursor v, compared byte for byte as it appeared in the
// raw query string.
func (cs *cursorStore) lookup(v string) (*cursorTok, cursorLookup) {
	if tok, ok := cs.byEncoded[v]; ok {
		return tok, cursorOK
	}
	for _, c := range unescapings(v) {
		if _, ok := cs.byEncoded[c]; ok {
			return nil, cursorMangled
		}
		if _, ok := cs.byRaw[c]; ok {
			return nil, cursorMangled
		}
	}
	return nil, cursorUnknown
}

// unescapings returns v and what it becomes when percent-decoded once or
// twice, by query or by path rules.
func unescapings(v string) []string {
	out := []string{v}
	for _, unescape := range []func(string) (string, error){url.QueryUnescape, url.PathUnescape} {
		s := v
		for range 2 {
			u, err := unescape(s)
			if err != nil || u == s {
				break
			}
			out = append(out, u)
			s = u
		}
	}
	return out
}

// rawQueryParam returns the value of key in a raw query string exactly as
// sent, without decoding.
func rawQueryParam(rawQuery, key string) (string, bool) {
	for part := range strings.SplitSeq(rawQuery, "&") {
		k, v, _ := strings.Cut(part, "=")
		if k == key {
			return v, true
		}
	}
	return "", false
}
