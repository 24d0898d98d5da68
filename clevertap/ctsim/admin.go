package ctsim

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// serveAdmin serves the simulator's own endpoints, which need no
// credentials: GET /_sim/stats, POST /_sim/advance?d=DURATION and GET
// /_sim/deletions.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	want := map[string]string{"/_sim/stats": "GET", "/_sim/advance": "POST", "/_sim/deletions": "GET"}
	method, ok := want[r.URL.Path]
	switch {
	case !ok:
		writeFail(w, http.StatusNotFound, 404, msgNotFound)
		return
	case r.Method != method:
		w.Header().Set("Allow", method)
		writeFail(w, http.StatusMethodNotAllowed, 405, msgMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case "/_sim/stats":
		writeJSON(w, http.StatusOK, s.Stats())
	case "/_sim/advance":
		d, err := time.ParseDuration(r.URL.Query().Get("d"))
		if err != nil || d < 0 {
			writeBadRequest(w, "d must be a non-negative duration such as 90m or 48h")
			return
		}
		s.Advance(d)
		writeJSON(w, http.StatusOK, map[string]any{"status": "success", "now": s.Now()})
	case "/_sim/deletions":
		type pending struct {
			ObjectID string    `json:"objectId"`
			DeleteAt time.Time `json:"delete_at"`
		}
		out := []pending{}
		for id, at := range s.deletionTimes() {
			out = append(out, pending{id, at})
		}
		slices.SortFunc(out, func(a, b pending) int {
			if c := a.DeleteAt.Compare(b.DeleteAt); c != 0 {
				return c
			}
			return strings.Compare(a.ObjectID, b.ObjectID)
		})
		writeJSON(w, http.StatusOK, map[string]any{"status": "success", "now": s.Now(), "pending": out})
	}
}
