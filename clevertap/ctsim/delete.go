package ctsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// handleDelete serves POST /1/delete/profiles.json with a body holding
// exactly one of "identity" and "guid", each a string or an array of 1 to
// 100 strings. It answers success even when nothing matches; matching
// profiles are marked and go after DeletionDelay on the sim clock.
func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	top, ok := readObject(w, r)
	if !ok {
		return
	}
	rawID, hasID := top["identity"]
	rawGUID, hasGUID := top["guid"]
	var (
		ids []string
		err error
	)
	switch {
	case hasID && hasGUID:
		writeBadRequest(w, "send either identity or guid, not both")
		return
	case hasID:
		ids, err = stringOrList(rawID, MaxDeleteIDs)
	case hasGUID:
		ids, err = stringOrList(rawGUID, MaxDeleteIDs)
	default:
		writeBadRequest(w, "identity or guid is required")
		return
	}
	if err != nil {
		key := "identity"
		if hasGUID {
			key = "guid"
		}
		writeBadRequest(w, key+": "+err.Error())
		return
	}
	s.lim.countDelete(len(ids))
	s.locked(func() {
		at := s.now.Add(s.opts.DeletionDelay)
		for _, id := range ids {
			for _, rec := range s.matchDelete(id, hasGUID) {
				s.st.markDeleted(rec, at)
			}
		}
		s.st.purge(s.now) // with no delay, gone at once
	})
	writeSuccess(w)
}

// matchDelete returns the profiles a delete id names: by identity, or by
// the objectId of any of its devices. The caller holds the mutex.
func (s *Server) matchDelete(id string, guid bool) []*profileRec {
	if !guid {
		return s.st.matchIdentity(id)
	}
	if rec, ok := s.st.byObjectID[id]; ok {
		return []*profileRec{rec}
	}
	return nil
}

// stringOrList parses a JSON string or a non-empty array of at most max
// strings.
func stringOrList(raw json.RawMessage, max int) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("must be a string or an array of strings")
		}
		return []string{s}, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil || list == nil {
		return nil, fmt.Errorf("must be a string or an array of strings")
	}
	switch {
	case len(list) == 0:
		return nil, fmt.Errorf("the array is empty")
	case len(list) > max:
		return nil, fmt.Errorf("%d values; at most %d per request", len(list), max)
	}
	out := make([]string, 0, len(list))
	for i, el := range list {
		var s string
		if len(el) == 0 || el[0] != '"' || json.Unmarshal(el, &s) != nil {
			return nil, fmt.Errorf("value %d is not a string", i)
		}
		out = append(out, s)
	}
	return out, nil
}

// handleDemerge serves POST /1/demerge/profiles.json: {"identities":[…]}
// with 1 to 100 strings. It validates and answers success; the demerge
// itself is not modelled.
func (s *Server) handleDemerge(w http.ResponseWriter, r *http.Request) {
	top, ok := readObject(w, r)
	if !ok {
		return
	}
	raw, has := top["identities"]
	if !has || len(bytes.TrimSpace(raw)) == 0 || bytes.TrimSpace(raw)[0] != '[' {
		writeBadRequest(w, "identities must be an array of strings")
		return
	}
	if _, err := stringOrList(raw, MaxDeleteIDs); err != nil {
		writeBadRequest(w, "identities: "+err.Error())
		return
	}
	writeSuccess(w)
}

// readObject reads a request body that must be a JSON object of at most
// maxBody bytes; on failure it has already answered 400.
func readObject(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeBadRequest(w, "request body unreadable or over 1 MiB")
		return nil, false
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		writeBadRequest(w, "Invalid JSON: the body must be a JSON object")
		return nil, false
	}
	return top, true
}
