package ctsim

import (
	"net/http"
	"testing"
	"time"
)

func TestAdminEndpoints(t *testing.T) {
	ts := mustSim(t, nil, Options{DeletionDelay: 2 * time.Hour})
	ts.do(t, "GET", "/1/profile.json?identity=u-1", nil)
	ts.do(t, "POST", "/1/delete/profiles.json", map[string]any{"identity": "u-2"}).wantSuccess(t)

	// No credentials needed.
	stats := ts.doAuth(t, "GET", "/_sim/stats", nil, "", "")
	calls := stats.body["calls"].(map[string]any)
	if stats.status != 200 || calls["profile"] != 1.0 || calls["delete"] != 1.0 || stats.body["delete_ids"] != 1.0 {
		t.Errorf("stats = %s", stats.raw)
	}
	del := ts.doAuth(t, "GET", "/_sim/deletions", nil, "", "")
	pending := del.body["pending"].([]any)
	if len(pending) != 1 || pending[0].(map[string]any)["objectId"] != bobA {
		t.Errorf("deletions = %s", del.raw)
	}
	adv := ts.doAuth(t, "POST", "/_sim/advance?d=2h", nil, "", "")
	if adv.status != 200 || !ts.Now().Equal(t0.Add(2*time.Hour)) {
		t.Errorf("advance: %s, now %v", adv.raw, ts.Now())
	}
	if del := ts.doAuth(t, "GET", "/_sim/deletions", nil, "", ""); len(del.body["pending"].([]any)) != 0 {
		t.Errorf("after advance, deletions = %s", del.raw)
	}
	ts.doAuth(t, "POST", "/_sim/advance?d=soon", nil, "", "").wantFail(t, http.StatusBadRequest, 400, "")
	ts.doAuth(t, "GET", "/_sim/advance?d=1h", nil, "", "").wantFail(t, http.StatusMethodNotAllowed, 405, "")
	ts.doAuth(t, "GET", "/_sim/nothing", nil, "", "").wantFail(t, http.StatusNotFound, 404, "")
}
