package ctsim

import (
	"net/http"
	"strings"
)

// profileReply is a found profile; notFoundNull and notFoundAbsent are the
// two success-shaped "not found" replies.
type profileReply struct {
	Status string        `json:"status"`
	Record profileRecord `json:"record"`
}

type notFoundNull struct {
	Status string `json:"status"`
	Record *int   `json:"record"` // always null
}

// handleProfile serves GET /1/profile.json?email=|identity=|objectId= (the
// first present, in that order, as clevertap-node sends them).
func (s *Server) handleProfile(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var key, val string
	for _, k := range []string{"email", "identity", "objectId"} {
		if v := strings.TrimSpace(q.Get(k)); v != "" {
			key, val = k, v
			break
		}
	}
	if key == "" {
		writeBadRequest(w, "one of email, identity or objectId is required")
		return
	}
	if s.opts.LookupFailText != "" {
		code := s.opts.LookupFailStatus
		if code == http.StatusOK {
			code = 400
		}
		writeFail(w, s.opts.LookupFailStatus, code, s.opts.LookupFailText)
		return
	}
	var (
		rec      profileRecord
		found    bool
		multiple bool
	)
	s.locked(func() {
		var matches []*profileRec
		switch key {
		case "email":
			matches = s.st.matchEmail(val)
		case "identity":
			matches = s.st.matchIdentity(val)
		default:
			if m, ok := s.st.byObjectID[val]; ok {
				matches = append(matches, m)
			}
		}
		if s.opts.WrongPerson && key != "objectId" {
			matches = s.someoneElse(val)
		}
		if len(matches) > 1 && s.opts.MultiMatch == "error" {
			multiple = true
			return
		}
		if m := s.pick(matches); m != nil {
			rec, found = s.profileRecordOf(m, defaultFlags), true
		}
	})
	switch {
	case multiple:
		writeFail200(w, 400, "More than one profile matches")
	case found:
		writeJSON(w, http.StatusOK, profileReply{Status: "success", Record: rec})
	default:
		s.writeNotFound(w)
	}
}

// someoneElse returns the first stored profile whose email and identity
// both differ from val: the wrong person a broken lookup answers with. The
// caller holds the mutex.
func (s *Server) someoneElse(val string) []*profileRec {
	for _, rec := range s.st.profiles {
		if !strings.EqualFold(rec.p.Email, val) && rec.p.Identity != val {
			return []*profileRec{rec}
		}
	}
	return nil
}

// pick chooses the profile profile.json returns among several matches.
func (s *Server) pick(matches []*profileRec) *profileRec {
	var best *profileRec
	for _, m := range matches {
		switch {
		case best == nil:
			best = m
		case s.opts.MultiMatch == "first_created":
			if m.p.CreatedAt.Before(best.p.CreatedAt) {
				best = m
			}
		default: // last_updated; the later-added wins a tie
			if !m.p.UpdatedAt.Before(best.p.UpdatedAt) {
				best = m
			}
		}
	}
	return best
}

func (s *Server) writeNotFound(w http.ResponseWriter) {
	switch s.opts.NotFoundMode {
	case "success_absent":
		writeSuccess(w)
	case "fail_200":
		writeFail200(w, 404, s.opts.NotFoundText)
	case "http_404":
		writeFail(w, http.StatusNotFound, 404, s.opts.NotFoundText)
	default:
		writeJSON(w, http.StatusOK, notFoundNull{Status: "success"})
	}
}
