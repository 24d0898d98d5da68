package ctsim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// maxBody bounds request bodies.
const maxBody = 1 << 20

type cursorReply struct {
	Status string `json:"status"`
	Cursor string `json:"cursor"`
}

type pageReply struct {
	Status         string            `json:"status"`
	PreviousCursor string            `json:"previous_cursor,omitempty"`
	NextCursor     string            `json:"next_cursor,omitempty"`
	Records        []json.RawMessage `json:"records,omitempty"`
}

// handleEvents serves /1/events.json: a cursor page (GET or POST with
// ?cursor=), or step 1 (POST with a CQL body, or GET with ?query=, the
// older style clevertap-node uses).
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	s.handleExport(w, r, "events")
}

// handleProfiles serves /1/profiles.json like handleEvents.
func (s *Server) handleProfiles(w http.ResponseWriter, r *http.Request) {
	s.handleExport(w, r, "profiles")
}

func (s *Server) handleExport(w http.ResponseWriter, r *http.Request, kind string) {
	if c, ok := rawQueryParam(r.URL.RawQuery, "cursor"); ok {
		s.servePage(w, kind, c)
		return
	}
	var body []byte
	switch {
	case r.Method == http.MethodPost:
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			writeBadRequest(w, "request body unreadable or over 1 MiB")
			return
		}
		body = b
	case r.URL.Query().Has("query"):
		body = []byte(r.URL.Query().Get("query"))
	default:
		writeBadRequest(w, "cursor or query required")
		return
	}
	if s.step1Pending() {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, s.opts.Step1PendingBody)
		return
	}
	tok, rerr := s.openQuery(r, kind, body)
	if rerr != nil {
		writeFail(w, rerr.httpStatus, 400, rerr.msg)
		return
	}
	writeJSON(w, http.StatusOK, cursorReply{Status: "success", Cursor: tok})
}

// step1Pending reports whether this step-1 request is one of the first
// Step1Pending, which answer HTTP 202.
func (s *Server) step1Pending() bool {
	if s.opts.Step1Pending == 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.step1Seen++
	return s.step1Seen <= s.opts.Step1Pending
}

// exportParams are step 1's URL parameters.
type exportParams struct {
	batchSize int
	flags     recordFlags
}

func (s *Server) parseExportParams(r *http.Request) (exportParams, *reqError) {
	q := r.URL.Query()
	p := exportParams{batchSize: s.opts.BatchSizeDefault, flags: defaultFlags}
	if v := q.Get("batch_size"); q.Has("batch_size") {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil || n < 1:
			return p, &reqError{400, "batch_size must be a positive integer"}
		case n > MaxBatchSize && s.opts.BatchSizeOverMax == "reject400":
			return p, &reqError{400, fmt.Sprintf("batch_size must not exceed %d", MaxBatchSize)}
		}
		p.batchSize = min(n, MaxBatchSize)
	}
	for _, f := range []struct {
		name string
		v    *bool
	}{{"app", &p.flags.app}, {"events", &p.flags.events}, {"profile", &p.flags.profile}} {
		if q.Has(f.name) {
			b, err := strconv.ParseBool(q.Get(f.name))
			if err != nil {
				return p, &reqError{400, f.name + " must be true or false"}
			}
			*f.v = b
		}
	}
	if s.opts.PageQuirk23 {
		p.batchSize = (p.batchSize + 22) / 23 * 23
	}
	return p, nil
}

// openQuery runs step 1 over a frozen snapshot and returns the first cursor.
func (s *Server) openQuery(r *http.Request, kind string, body []byte) (string, *reqError) {
	params, rerr := s.parseExportParams(r)
	if rerr != nil {
		return "", rerr
	}
	q, rerr := parseCQL(body, s.loc)
	if rerr != nil {
		return "", rerr
	}
	if len(q.profileFields) > 0 {
		switch s.opts.ProfileFilter {
		case "reject":
			return "", &reqError{200, "Filtering on common_profile_properties is not supported"}
		case "ignore":
			q.profileFields = nil
		}
	}
	var cursor string
	s.locked(func() {
		if slices.Contains(s.opts.UnexportableEvents, q.eventName) ||
			s.opts.StrictEventNames && !s.st.eventNames()[q.eventName] {
			rerr = &reqError{200, `["Invalid event : ` + q.eventName + `"]`}
			return
		}
		s.cursors.expire(s.now)
		qr := &query{kind: kind, pageSize: params.batchSize, created: s.now, lastUsed: s.now}
		if kind == "events" {
			qr.ttl, qr.idle = s.opts.EventsCursorTTL, s.opts.EventsCursorIdle
			s.snapshotEvents(qr, q, params.flags)
		} else {
			qr.ttl = s.opts.ProfilesCursorTTL
			s.snapshotProfiles(qr, q, params.flags)
		}
		cursor = s.cursors.open(qr).encoded
	})
	return cursor, rerr
}

// matchingEvents returns the stored events that q selects, by time. The
// caller holds the mutex.
func (s *Server) matchingEvents(q cql) []*eventRec {
	var out []*eventRec
	for oid, evs := range s.candidateEvents(q) {
		rec := s.st.byObjectID[oid]
		var p *Profile
		if rec != nil {
			p = &rec.p
		}
		if len(q.profileFields) > 0 && !matchAll(q.profileFields, func(n string) (any, bool) { return profileField(p, n) }) {
			continue
		}
		for _, ev := range evs {
			if ev.e.Name == q.eventName && !ev.e.Time.Before(q.from) && ev.e.Time.Before(q.until) &&
				matchAll(q.eventProps, mapField(ev.e.EventProps)) && matchAll(q.sessionProps, mapField(ev.e.SessionProps)) {
				out = append(out, ev)
			}
		}
	}
	slices.SortFunc(out, compareEvents)
	return out
}

// candidateEvents narrows the events to scan, by objectId: with an Email
// equals filter only the devices of profiles with that email can match.
func (s *Server) candidateEvents(q cql) map[string][]*eventRec {
	for _, f := range q.profileFields {
		email, ok := f.Value.(string)
		if !ok || f.Operator != "equals" || !strings.EqualFold(f.Name, "email") {
			continue
		}
		out := map[string][]*eventRec{}
		for _, rec := range s.st.matchEmail(email) {
			for _, d := range rec.p.Devices {
				out[d.ObjectID] = s.st.events[d.ObjectID]
			}
		}
		return out
	}
	return s.st.events
}

// snapshotEvents freezes the event records of q into qr: the profile part
// is rendered now, the event part never changes.
func (s *Server) snapshotEvents(qr *query, q cql, fl recordFlags) {
	evs := s.matchingEvents(q)
	profiles := map[string]json.RawMessage{}
	for _, ev := range evs {
		if _, ok := profiles[ev.e.ObjectID]; !ok {
			profiles[ev.e.ObjectID] = s.eventProfileOf(ev.e.ObjectID, s.st.byObjectID[ev.e.ObjectID], fl)
		}
	}
	loc := s.loc
	qr.n = len(evs)
	qr.render = func(i int) json.RawMessage {
		e := evs[i].e
		return appendEventRecord(nil, profiles[e.ObjectID], tsOf(e.Time, loc), e.EventProps, e.SessionProps)
	}
}

// snapshotProfiles freezes into qr the records of the profiles with at
// least one event that q selects, in the order they were added.
func (s *Server) snapshotProfiles(qr *query, q cql, fl recordFlags) {
	hit := map[*profileRec]bool{}
	for _, ev := range s.matchingEvents(q) {
		if rec := s.st.byObjectID[ev.e.ObjectID]; rec != nil {
			hit[rec] = true
		}
	}
	var records []json.RawMessage
	for _, rec := range s.st.profiles {
		if hit[rec] {
			b, _ := json.Marshal(s.profileRecordOf(rec, fl))
			records = append(records, b)
		}
	}
	qr.n = len(records)
	qr.render = func(i int) json.RawMessage { return records[i] }
}

// servePage answers one cursor fetch.
func (s *Server) servePage(w http.ResponseWriter, kind, cursor string) {
	var (
		reply    pageReply
		result   cursorLookup
		notReady bool
	)
	s.locked(func() {
		s.cursors.expire(s.now)
		var tok *cursorTok
		tok, result = s.cursors.lookup(cursor)
		if result != cursorOK {
			return
		}
		if tok.q.kind != kind {
			result = cursorUnknown
			return
		}
		tok.q.lastUsed = s.now
		tok.fetches++
		if tok.fetches <= s.opts.NotReadyPages {
			notReady = true
			return
		}
		reply = s.page(tok)
	})
	switch {
	case result == cursorMangled:
		writeFail200(w, 400, msgIncorrectUsage)
	case result == cursorUnknown:
		writeFail200(w, 400, msgInvalidCursor)
	case notReady:
		writeFail(w, s.opts.NotReadyHTTPStatus, 2, msgNotReady)
	default:
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(http.StatusOK)
		w.Write(reply.appendJSON(nil))
	}
}

// page renders tok's page; the next cursor is made once, so a replayed
// cursor answers the same page with the same next cursor. As in CleverTap's
// own sample, next_cursor is percent-encoded while previous_cursor is raw.
func (s *Server) page(tok *cursorTok) pageReply {
	q := tok.q
	reply := pageReply{Status: "success", PreviousCursor: tok.prev}
	end := min(tok.offset+q.pageSize, q.n)
	for i := tok.offset; i < end; i++ {
		reply.Records = append(reply.Records, q.render(i))
	}
	switch {
	case end < q.n:
		if tok.next == "" {
			tok.next = s.cursors.newToken(q, end, tok.raw).encoded
		}
		reply.NextCursor = tok.next
	case s.opts.LastPageBare:
		reply.PreviousCursor = ""
	}
	return reply
}
