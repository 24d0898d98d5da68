package main

import (
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// deletionRows are deletion requests for the subjects, by email and id.
func deletionRows(ps []ctsim.Profile) []manifestRow {
	var rows []manifestRow
	for i, p := range ps {
		rows = append(rows, manifestRow{fmt.Sprintf("D-%02d", i), "deletion", p.Email, p.Identity, ""})
	}
	return rows
}

// Only CleverTap's own "no such profile" answers close a request as
// not_found: each shape seen in public code does.
func TestRunNotFoundShapes(t *testing.T) {
	for _, mode := range []string{"success_null", "success_absent", "fail_200", "http_404"} {
		t.Run(mode, func(t *testing.T) {
			ds := ctsim.Generate(ctsim.GenOptions{Seed: 21, Profiles: 4})
			sim := startSimServer(t, ds, ctsim.Options{NotFoundMode: mode})
			dir := t.TempDir()
			m := writeManifestCSV(t, dir, []manifestRow{
				{"D-1", "deletion", "nobody@example.com", "u-nobody", ""},
				{"A-1", "access", "nobody.else@example.com", "", ""},
			})
			res := ctdsr(t, runArgs(sim, filepath.Join(dir, "l.db"), filepath.Join(dir, "out"), "--manifest", m)...)
			if res.code != ExitOK {
				t.Fatalf("want exit 0\n%s", res)
			}
			for _, r := range readOutputs(t, filepath.Join(dir, "out")).Requests {
				if r.Status != "not_found" {
					t.Errorf("%s: %s (%s), want not_found", r.RequestID, r.Status, r.Detail)
				}
			}
		})
	}
}

// Any other refusal of a lookup is an error: the request stays open, is
// tried again by later runs and fails after the usual attempts, never
// not_found. (A wrong base-URL path, a proxy, a refusal for another
// reason all answer with a fail body too.)
func TestRunRefusalsAreNotNotFound(t *testing.T) {
	for _, c := range []struct {
		status int
		text   string
	}{
		{200, "Something went wrong"}, {400, "Invalid parameter"}, {400, "Incorrect Usage"}, {404, "Endpoint disabled"},
	} {
		t.Run(fmt.Sprintf("%d %s", c.status, c.text), func(t *testing.T) {
			ds := ctsim.Generate(ctsim.GenOptions{Seed: 22, Profiles: 4})
			sim := startSimServer(t, ds, ctsim.Options{LookupFailStatus: c.status, LookupFailText: c.text})
			ps := subjects(ds, 0, 2)
			dir := t.TempDir()
			m := writeManifestCSV(t, dir, deletionRows(ps))
			state := filepath.Join(dir, "l.db")
			for run := 1; run <= 5; run++ {
				out := filepath.Join(dir, fmt.Sprintf("out%d", run))
				args := runArgs(sim, state, out)
				if run == 1 {
					args = append(args, "--manifest", m)
				}
				res := ctdsr(t, args...)
				if res.code != ExitRowsFailed {
					t.Fatalf("run %d: want exit 3 (attempts failed)\n%s", run, res)
				}
				for _, r := range readOutputs(t, out).Requests {
					want := "pending"
					if run == 5 {
						want = "failed"
					}
					if r.Status != want || !strings.Contains(r.Detail, c.text) {
						t.Errorf("run %d: %s is %s (%q), want %s with CleverTap's text", run, r.RequestID, r.Status, r.Detail, want)
					}
				}
			}
			if sim.Stats().DeleteCalls != 0 {
				t.Error("a delete was sent although no lookup succeeded")
			}
		})
	}
}

// A base URL with a path is a usage error: the client adds /1/... itself.
func TestRunBaseURLMustBeAnOrigin(t *testing.T) {
	sim := startSimServer(t, ctsim.Generate(ctsim.GenOptions{Seed: 23, Profiles: 2}), ctsim.Options{})
	dir := t.TempDir()
	m := writeManifestCSV(t, dir, []manifestRow{{"D-1", "deletion", "a@example.com", "", ""}})
	args := runArgs(sim, filepath.Join(dir, "l.db"), filepath.Join(dir, "out"), "--manifest", m)
	for i, a := range args {
		if a == sim.URL {
			args[i] = sim.URL + "/v1"
		}
	}
	if res := ctdsr(t, args...); res.code != ExitUsage || !strings.Contains(res.stderr, "origin") {
		t.Errorf("--base-url with a path: want exit 2 saying it must be an origin\n%s", res)
	}
	if sim.HTTP.Load() != 0 {
		t.Errorf("%d requests reached the server", sim.HTTP.Load())
	}
}

// Pointed at the wrong account (valid credentials, nobody in it), a run
// stops after 20 subjects found missing, closing none; the same ledger
// against the right account then ends every row right.
func TestRunWrongAccountThenRightOne(t *testing.T) {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 24, Profiles: 30})
	ps := subjects(ds, 0, 25)
	empty := startSimServer(t, &ctsim.Dataset{Account: ds.Account}, ctsim.Options{})
	dir := t.TempDir()
	var rows []manifestRow
	for i, p := range ps {
		typ := "access"
		if i%2 == 1 {
			typ = "deletion"
		}
		rows = append(rows, manifestRow{fmt.Sprintf("R-%02d", i), typ, p.Email, p.Identity, ""})
	}
	m := writeManifestCSV(t, dir, rows)
	state := filepath.Join(dir, "l.db")
	res := ctdsr(t, runArgs(empty, state, filepath.Join(dir, "out1"), "--manifest", m)...)
	if res.code != ExitFatal || !strings.Contains(res.stderr, "is this the right account and region") {
		t.Fatalf("run against an empty account: want exit 1 asking about the account\n%s", res)
	}
	for _, r := range readOutputs(t, filepath.Join(dir, "out1")).Requests {
		if r.Status != "pending" {
			t.Errorf("after the stopped run %s is %s, want pending", r.RequestID, r.Status)
		}
	}

	right := startSimServer(t, ds, ctsim.Options{NoDeletionDelay: true})
	res = ctdsr(t, runArgs(right, state, filepath.Join(dir, "out2"))...)
	if res.code != ExitOK {
		t.Fatalf("the same ledger against the right account: want exit 0\n%s", res)
	}
	o := readOutputs(t, filepath.Join(dir, "out2"))
	if len(o.Requests) != len(rows) {
		t.Fatalf("%d requests in the reports, want %d", len(o.Requests), len(rows))
	}
	for _, r := range o.Requests {
		if want := map[string]string{"access": "done", "deletion": "verified"}[r.RequestType]; r.Status != want {
			t.Errorf("%s: %s (%s), want %s", r.RequestID, r.Status, r.Detail, want)
		}
	}
}

// A server that redirects (a wrong host, a proxy) stops the run as a
// configuration error: no request is failed or closed by it, and a rerun
// with the right base URL does them all.
func TestRunRedirectIsAConfigurationError(t *testing.T) {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 25, Profiles: 6})
	ps := subjects(ds, 0, 3)
	redirecting := startSimServer(t, ds, ctsim.Options{RedirectTo: "https://elsewhere.example"})
	dir := t.TempDir()
	m := writeManifestCSV(t, dir, deletionRows(ps))
	state := filepath.Join(dir, "l.db")
	res := ctdsr(t, runArgs(redirecting, state, filepath.Join(dir, "out1"), "--manifest", m)...)
	if res.code != ExitFatal || !strings.Contains(res.stderr, "configuration") {
		t.Fatalf("run against a redirecting server: want exit 1 naming a configuration problem\n%s", res)
	}
	for _, r := range readOutputs(t, filepath.Join(dir, "out1")).Requests {
		if r.Status != "pending" || strings.Contains(r.Detail, "attempt") {
			t.Errorf("after the redirect %s is %s (%q), want pending with no failed attempt", r.RequestID, r.Status, r.Detail)
		}
	}
	right := startSimServer(t, ds, ctsim.Options{})
	res = ctdsr(t, runArgs(right, state, filepath.Join(dir, "out2"))...)
	if res.code != ExitOK {
		t.Fatalf("rerun with the right base URL: want exit 0\n%s", res)
	}
	for _, r := range readOutputs(t, filepath.Join(dir, "out2")).Requests {
		if r.Status != "submitted" {
			t.Errorf("after the rerun %s is %s (%s), want submitted", r.RequestID, r.Status, r.Detail)
		}
	}
}

// An HTML page from a server that never answered JSON (a wrong host behind
// a web server) is a configuration error too, not a row failure.
func TestRunHTMLAnswerIsAConfigurationError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, "<html><body><h1>404 Not Found</h1></body></html>")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	m := writeManifestCSV(t, dir, []manifestRow{{"D-1", "deletion", "a@example.com", "u-1", ""}})
	res := ctdsr(t, "run", "--state", filepath.Join(dir, "l.db"), "--out", filepath.Join(dir, "out"),
		"--base-url", "http://"+ln.Addr().String(), "--manifest", m)
	if res.code != ExitFatal || !strings.Contains(res.stderr, "configuration") {
		t.Fatalf("want exit 1 naming a configuration problem\n%s", res)
	}
	if r := readOutputs(t, filepath.Join(dir, "out")).Requests; len(r) != 1 || r[0].Status != "pending" {
		t.Errorf("requests after an HTML answer: %+v, want D-1 pending", r)
	}
}

// Requests an older build (or a wrong configuration) closed as not_found
// are reopened with `ctdsr reopen`; the ledger records who and when; the
// next run does them again.
func TestReopenThenRun(t *testing.T) {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 26, Profiles: 6})
	ps := subjects(ds, 0, 3)
	empty := startSimServer(t, &ctsim.Dataset{Account: ds.Account}, ctsim.Options{})
	dir := t.TempDir()
	m := writeManifestCSV(t, dir, deletionRows(ps))
	state := filepath.Join(dir, "l.db")
	if res := ctdsr(t, runArgs(empty, state, filepath.Join(dir, "out1"), "--manifest", m, "--expect-no-matches")...); res.code != ExitOK {
		t.Fatalf("run against an empty account with --expect-no-matches: want exit 0\n%s", res)
	}
	res := ctdsr(t, "reopen", "--state", state, "--status", "not_found", "--request-id", "D-00", "--request-id", "D-01")
	if res.code != ExitOK || !strings.Contains(res.stdout, "reopened 2 request(s)") {
		t.Fatalf("reopen: want 2 reopened\n%s", res)
	}
	right := startSimServer(t, ds, ctsim.Options{})
	if res := ctdsr(t, runArgs(right, state, filepath.Join(dir, "out2"))...); res.code != ExitOK {
		t.Fatalf("run after reopen: want exit 0\n%s", res)
	}
	got := map[string]string{}
	for _, r := range readOutputs(t, filepath.Join(dir, "out2")).Requests {
		got[r.RequestID] = r.Status
	}
	if got["D-00"] != "submitted" || got["D-01"] != "submitted" || got["D-02"] != "not_found" {
		t.Errorf("after reopen and a run: %v; want D-00 and D-01 submitted, D-02 still not_found", got)
	}
	st, err := openExisting(t.Context(), state, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h, err := st.History(t.Context(), "D-00")
	if err != nil {
		t.Fatal(err)
	}
	var reopened bool
	for _, e := range h {
		if e.From == "not_found" && e.To == "pending" && strings.Contains(e.Actor, "@") && e.Note == "reopened" {
			reopened = true
		}
	}
	if !reopened {
		t.Errorf("D-00's history %+v does not record who reopened it", h)
	}
	if bad := ctdsr(t, "reopen", "--state", state, "--status", "done"); bad.code != ExitUsage {
		t.Errorf("reopen --status done: want exit 2\n%s", bad)
	}
}
