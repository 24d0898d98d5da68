package main

// Privacy guarantees, proven end to end: personal data is the payload, not
// log material. Every test drives run(ctx, env, args) in-process against the
// simulator with subjects whose every email, identity, phone and name carries
// the marker "zqx" (phones "+999"), and a passcode that appears nowhere else,
// then searches what a person or a log collector would see.

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

const (
	privPasscode    = "PASS-priv-7Kq2w-unique"
	privBadPasscode = "PASS-wrong-Jx9vb-unique"
	privSecretFile  = "privpass-secretfile.txt" // a passcode file's name, redacted from the ledger
)

// privMarkers are substrings of every subject's personal data (matched
// case-insensitively). No log line, no stdout line may hold any of them.
var privMarkers = []string{"zqx", "+999"}

// privQueryMarkers would mean a URL query (which holds emails and
// identities) reached an error message or a log line.
var privQueryMarkers = []string{"?email=", "?identity=", "?objectId=", "?cursor=", "?batch_size=", "email=zqx", "identity=zqx"}

// privWorld is one simulator with zqx subjects, a manifest of them and a
// rejects manifest, in a private directory.
type privWorld struct {
	sim      *ctsim.Server
	echo     *privEcho
	base     string
	dir      string
	good     string   // manifest path: found, not found, one permanent failure
	bad      string   // manifest path: every row rejected
	subjects []string // every email, identity, phone and name, exactly
}

func privNewWorld(t *testing.T) *privWorld {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 7, Profiles: 10, EventsPerProfile: 2, SharedEmailEvery: 5,
		Start: now.Add(-20 * 24 * time.Hour), End: now.Add(-time.Hour)})
	ds.Account.Passcodes = []string{privPasscode}
	w := &privWorld{dir: t.TempDir()}
	emails := map[string]string{} // generated → zqx, so the shared email stays shared
	for i := range ds.Profiles {
		p := &ds.Profiles[i]
		if _, ok := emails[p.Email]; !ok {
			emails[p.Email] = fmt.Sprintf("zqxmail%02d@zqx-mail.example", i+1)
		}
		p.Email = emails[p.Email]
		p.Name = fmt.Sprintf("Zqxfirst Zqxlast%02d", i+1)
		p.Phone = fmt.Sprintf("+9990%07d", i+1)
		if i != 4 { // profile 5 is the orphan sharing profile 4's email
			p.Identity = fmt.Sprintf("zqxuid-%02d", i+1)
			p.ProfileData["Identity"] = p.Identity
		}
		p.ProfileData["Email"], p.ProfileData["Name"], p.ProfileData["Phone"] = p.Email, p.Name, p.Phone
		w.subjects = append(w.subjects, p.Email, p.Name, p.Phone)
		if p.Identity != "" {
			w.subjects = append(w.subjects, p.Identity)
		}
	}
	if ds.Profiles[3].Email != ds.Profiles[4].Email {
		t.Fatal("fixture: profiles 4 and 5 should share an email")
	}
	sim, err := ctsim.New(ds, ctsim.Options{MultiMatch: "error", NoDeletionDelay: true, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	w.echo = &privEcho{sim: sim, failIdentity: ds.Profiles[2].Identity, failEmail: ds.Profiles[2].Email, resetIdentity: ds.Profiles[0].Identity}
	srv := httptest.NewServer(w.echo)
	t.Cleanup(srv.Close)
	w.sim, w.base = sim, srv.URL

	sub := now.Add(-48 * time.Hour).Format(time.RFC3339)
	e, id := func(i int) string { return ds.Profiles[i-1].Email }, func(i int) string { return ds.Profiles[i-1].Identity }
	rows := [][]string{
		{"PRV-01", "access", e(1), id(1)},
		{"PRV-02", "access", strings.ToUpper(e(2)), ""},
		{"PRV-03", "access", e(3), id(3)}, // privEcho refuses the identity for good, echoing it
		{"PRV-04", "access", e(4), ""},    // two profiles share it
		{"PRV-05", "access", "zqxmail-absent@zqx-mail.example", "zqxuid-absent"},
		{"PRV-06", "deletion", e(6), id(6)},
		{"PRV-07", "deletion", "", id(7)},
		{"PRV-08", "deletion", e(8), ""},
		{"PRV-09", "deletion", "zqxmail-gone@zqx-mail.example", ""},
	}
	var b strings.Builder
	b.WriteString("request_id,request_type,email,user_id,submitted_at\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s\n", r[0], r[1], r[2], r[3], sub)
	}
	w.good = filepath.Join(w.dir, "requests.csv")
	privWrite(t, w.good, b.String())
	w.bad = filepath.Join(w.dir, "more.csv")
	privWrite(t, w.bad, "request_id,request_type,email,user_id,submitted_at\n"+
		"PRV-R1,access,\"zqx mail11@zqx-mail.example\",zqxuid-11,"+sub+"\n"+ // space in the email
		"PRV-R2,refund,zqxmail12@zqx-mail.example,zqxuid-12,"+sub+"\n"+ // unknown type
		",access,zqxmail13@zqx-mail.example,zqxuid-13,"+sub+"\n"+ // no request id
		"PRV-R4,deletion,,,"+sub+"\n"+ // no subject
		"PRV-R5,access,zqxmail15@zqx-mail.example,zqxuid-15,yesterday\n"+ // bad date
		"PRV-R6,access,zqxmail16@@zqx-mail.example,,"+sub+"\n"+ // two @
		"PRV-01,access,zqxmail17@zqx-mail.example,zqxuid-17,"+sub+"\n") // PRV-01 again, other subject
	w.subjects = append(w.subjects, "zqxmail-absent@zqx-mail.example", "zqxuid-absent", "zqxmail-gone@zqx-mail.example",
		"zqx mail11@zqx-mail.example", "zqxmail12@zqx-mail.example", "zqxmail17@zqx-mail.example", "zqxuid-17")
	return w
}

// privEcho is the simulator behind a CleverTap that repeats what it was sent
// in its error texts: the passcode it refuses, and the subject it cannot
// look up (HTTP 422, a permanent failure). Once armed, it also drops the
// connection of one lookup of resetIdentity mid-answer: a transport error.
type privEcho struct {
	sim                     http.Handler
	failIdentity, failEmail string
	resetIdentity           string
	resetArmed              atomic.Bool
}

func (p *privEcho) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"status": "fail", "code": status, "error": msg})
	}
	switch pass := r.Header.Get("X-CleverTap-Passcode"); {
	case pass != privPasscode:
		fail(http.StatusUnauthorized, "Invalid passcode "+pass+" for account "+r.Header.Get("X-CleverTap-Account-Id"))
	case r.URL.Path == "/1/profile.json" && r.URL.Query().Get("identity") == p.failIdentity:
		fail(http.StatusUnprocessableEntity, "Cannot look up identity "+p.failIdentity+" ("+p.failEmail+"): "+r.URL.RawQuery)
	case r.URL.Path == "/1/profile.json" && r.URL.Query().Get("identity") == p.resetIdentity && p.resetArmed.CompareAndSwap(true, false):
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")) // cut off in the header: net/http does not retry it
		conn.Close()
	default:
		p.sim.ServeHTTP(w, r)
	}
}

func privWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// privRun drives the command line and returns run's error, the exit code
// and both outputs; stderr ends with what main would print for the error.
func privRun(t *testing.T, passcode string, args ...string) (err error, code int, stdout, stderr string) {
	t.Helper()
	r := ctdsrEnv(t, t.Context(), credentials(passcode), args...)
	return r.err, r.code, r.stdout, r.stderr
}

// privCheckOutput asserts that output shows no subject's personal data, no
// passcode and no URL query.
func privCheckOutput(t *testing.T, w *privWorld, what, s string) {
	t.Helper()
	low := strings.ToLower(s)
	for _, m := range privMarkers {
		if i := strings.Index(low, strings.ToLower(m)); i >= 0 {
			t.Errorf("%s shows personal data (%q) near %q", what, m, privAround(s, i))
		}
	}
	for _, v := range w.subjects {
		if strings.Contains(low, strings.ToLower(v)) {
			t.Errorf("%s shows subject value %q", what, v)
		}
	}
	if loc := privEmailShape.FindStringIndex(s); loc != nil {
		t.Errorf("%s shows an email address near %q", what, privAround(s, loc[0]))
	}
	privCheckSecret(t, what, []byte(s))
	for _, q := range privQueryMarkers {
		if strings.Contains(s, q) {
			t.Errorf("%s shows a URL query (%q)", what, q)
		}
	}
}

// privCheckSecret asserts that b holds neither passcode in any plain
// encoding, nor a fragment of one.
func privCheckSecret(t *testing.T, what string, b []byte) {
	t.Helper()
	for _, p := range []string{privPasscode, privBadPasscode} {
		for _, enc := range []string{p, p[5:14], base64.StdEncoding.EncodeToString([]byte(p)), hex.EncodeToString([]byte(p))} {
			if i := bytes.Index(b, []byte(enc)); i >= 0 {
				t.Errorf("%s holds the passcode (%q) near %q", what, enc, privAround(string(b), i))
			}
		}
	}
}

func privAround(s string, i int) string {
	return s[max(0, i-60):min(len(s), i+60)]
}

// privCheckFiles reads every file under dir, and the values inside every
// Parquet file (whose pages are compressed), and asserts no passcode. It
// returns how many files it read.
func privCheckFiles(t *testing.T, dir string) (files []string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files = append(files, d.Name())
		privCheckSecret(t, path, b)
		if bytes.Contains(b, []byte(privSecretFile)) {
			t.Errorf("%s holds the passcode file's name", path)
		}
		if strings.HasSuffix(path, ".parquet") {
			privCheckSecret(t, path+" (decoded)", []byte(privParquetText(t, path, b)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// privParquetText is every value of every row of a Parquet file, joined.
func privParquetText(t *testing.T, path string, b []byte) string {
	t.Helper()
	pf, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var sb strings.Builder
	for _, rg := range pf.RowGroups() {
		rows := rg.Rows()
		buf := make([]parquet.Row, 32)
		for {
			n, err := rows.ReadRows(buf)
			for _, row := range buf[:n] {
				for _, v := range row {
					sb.WriteString(v.String())
					sb.WriteByte(0)
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		rows.Close()
	}
	return sb.String()
}

// privCheckJSONLines asserts every stderr line is a JSON log record, or the
// one line main prints for an error.
func privCheckJSONLines(t *testing.T, stderr string) {
	t.Helper()
	for line := range strings.Lines(stderr) {
		if strings.HasPrefix(line, "ctdsr: ") {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["msg"] == nil {
			t.Errorf("stderr line is not a JSON log record: %q", line)
		}
	}
}

var privEmailShape = regexp.MustCompile(`[\w.+-]@[\w-]`)

var privOneLineErr = regexp.MustCompile(`^ctdsr: [^\n]+\n`)

// TestPrivRunLogsNoPersonalData runs the whole life of a ledger (dry run,
// run with faults and a permanent lookup failure, status, a resumed run) in
// each log format at the default level, and at debug.
func TestPrivRunLogsNoPersonalData(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
	}{
		{"text-info", nil},
		{"json-info", []string{"--log-format", "json"}},
		{"text-debug", []string{"--log-level", "debug"}},
		{"json-debug", []string{"--log-format", "json", "--log-level", "debug"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := privNewWorld(t)
			asJSON := strings.Contains(strings.Join(tc.flags, " "), "json")
			debug := strings.Contains(strings.Join(tc.flags, " "), "debug")
			ledger, out := filepath.Join(w.dir, "state", "ledger.db"), filepath.Join(w.dir, "out")
			api := append([]string{"--base-url", w.base, "--timezone", ctsim.DefaultTimezone, "--progress-every", "20ms"}, tc.flags...)
			var allErr strings.Builder

			// Dry run: one lookup fails for good; nothing is written.
			err, code, stdout, stderr := privRun(t, privPasscode, append([]string{"run", "--dry-run",
				"--manifest", w.good, "--manifest", w.bad}, api...)...)
			if code != ExitRowsFailed || !strings.Contains(stdout, "lookup failed: clevertap: profile by identity: HTTP 422: Cannot look up identity [REDACTED] ([REDACTED])") {
				t.Fatalf("dry run: exit %d (%v)\nstdout:\n%s\nstderr:\n%s", code, err, stdout, stderr)
			}
			privCheckOutput(t, w, "dry run stdout", stdout)
			privCheckOutput(t, w, "dry run stderr", stderr)
			allErr.WriteString(stderr)

			// The run, with faults the client retries, a reset connection
			// and one lookup that fails for good.
			w.sim.InjectFault("profile", 2, ctsim.Fault500)
			w.sim.InjectFault("delete", 2, ctsim.FaultReset)
			w.echo.resetArmed.Store(true)
			w.sim.InjectFault("profile", 5, ctsim.Fault429)
			w.sim.InjectFault("events", 1, ctsim.Fault503)
			w.sim.InjectFault("delete", 1, ctsim.Fault500)
			runArgs := append([]string{"run", "--manifest", w.good, "--manifest", w.bad, "--state", ledger, "--out", out,
				"--workers", "4", "--verify-first", "30ms", "--verify-window", "10s"}, api...)
			err, code, stdout, stderr = privRun(t, privPasscode, runArgs...)
			if code != ExitRowsFailed || !errors.Is(err, ErrRowsFailed) {
				t.Fatalf("run: exit %d (%v)\nstdout:\n%s\nstderr:\n%s", code, err, stdout, stderr)
			}
			for _, want := range []string{"request attempt failed", "PRV-03", "HTTP 422: Cannot look up identity [REDACTED] ([REDACTED]): identity=[REDACTED]",
				"manifest loaded", "progress"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("run stderr lacks %q (the paths under test did not log):\n%s", want, stderr)
				}
			}
			if strings.Contains(stderr, "DEBUG") != debug {
				t.Errorf("debug records present = %v, want %v:\n%s", !debug, debug, stderr)
			}
			if debug && (!strings.Contains(stderr, "retrying") || !strings.Contains(stderr, "GET /1/profile.json: net/http: HTTP/1.x transport connection broken")) {
				t.Errorf("debug stderr lacks the retries, or the reset connection:\n%s", stderr)
			}
			if !privOneLineErr.MatchString(stderr[strings.LastIndex(stderr, "ctdsr: "):]) {
				t.Errorf("the error line is not one line:\n%s", stderr)
			}
			privCheckOutput(t, w, "run stdout", stdout)
			privCheckOutput(t, w, "run stderr", stderr)
			privCheckOutput(t, w, "run error", err.Error())
			allErr.WriteString(stderr)

			// status, as a table and as JSON.
			for _, args := range [][]string{{"status", "--state", ledger}, {"status", "--state", ledger, "--json"}} {
				err, code, stdout, stderr = privRun(t, privPasscode, args...)
				if code != ExitOK {
					t.Fatalf("%v: exit %d (%v)\n%s", args, code, err, stderr)
				}
				privCheckOutput(t, w, "status stdout", stdout)
				privCheckOutput(t, w, "status stderr", stderr)
			}

			// A resumed run reads nothing again and retries what is open.
			err, code, stdout, stderr = privRun(t, privPasscode, runArgs...)
			if code != ExitRowsFailed || !strings.Contains(stderr, "not read again") {
				t.Fatalf("resumed run: exit %d (%v)\nstdout:\n%s\nstderr:\n%s", code, err, stdout, stderr)
			}
			privCheckOutput(t, w, "resumed run stdout", stdout)
			privCheckOutput(t, w, "resumed run stderr", stderr)
			allErr.WriteString(stderr)
			if asJSON {
				privCheckJSONLines(t, allErr.String())
			}

			// No file written holds the passcode: ledger (+ -wal/-shm),
			// every report, summary.json.
			files := strings.Join(privCheckFiles(t, w.dir), " ")
			for _, want := range []string{"ledger.db", "requests.parquet", "access_profiles.parquet", "access_events.parquet",
				"deletion_report.parquet", "rejects.parquet", "summary.json"} {
				if !strings.Contains(files, want) {
					t.Errorf("no %s was written (files: %s)", want, files)
				}
			}
		})
	}
}

// TestPrivBadCredentials: a refused passcode stops the run with one line
// that names neither passcode nor query, and nothing written holds it.
func TestPrivBadCredentials(t *testing.T) {
	w := privNewWorld(t)
	ledger, out := filepath.Join(w.dir, "ledger.db"), filepath.Join(w.dir, "out")
	var errs []string
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"run", []string{"run", "--manifest", w.good, "--state", ledger, "--out", out}},
		{"dry-run", []string{"run", "--dry-run", "--manifest", w.good}},
		{"run-debug-json", []string{"run", "--manifest", w.good, "--state", ledger, "--out", out, "--log-level", "debug", "--log-format", "json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err, code, stdout, stderr := privRun(t, privBadPasscode, append(tc.args, "--base-url", w.base)...)
			if err == nil {
				t.Fatalf("exit %d, want an error\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			msg := err.Error()
			errs = append(errs, msg)
			if tc.name != "dry-run" && (code != ExitFatal || !strings.Contains(msg, "401") || !strings.Contains(msg, "credentials")) {
				t.Errorf("exit %d, error %q: want exit 1 naming the refused credentials", code, msg)
			}
			if strings.ContainsAny(msg, "?\n") || strings.Contains(msg, "http://") {
				t.Errorf("error shows a URL, a query or a line break: %q", msg)
			}
			if !strings.Contains(msg, "Invalid passcode [REDACTED] for account") {
				t.Errorf("error %q: want CleverTap's text with the echoed passcode redacted", msg)
			}
			privCheckOutput(t, w, "error", msg)
			privCheckOutput(t, w, "stdout", stdout)
			privCheckOutput(t, w, "stderr", stderr)
		})
	}
	privCheckFiles(t, w.dir)
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil || !bytes.Contains(b, []byte(`"outcome": "fatal"`)) || !bytes.Contains(b, []byte("401")) {
		t.Errorf("summary.json should record the fatal 401 (%v):\n%s\nerrors: %q", err, b, errs)
	}
}

// TestPrivPasscodeFile: the passcode read from a file is used, and neither
// it nor the file's name reaches the ledger's record of the command line.
func TestPrivPasscodeFile(t *testing.T) {
	w := privNewWorld(t)
	secret := filepath.Join(t.TempDir(), privSecretFile)
	privWrite(t, secret, privPasscode+"\n")
	for i, flag := range [][]string{{"--passcode-file", secret}, {"--passcode-file=" + secret}} {
		ledger, out := filepath.Join(w.dir, fmt.Sprint("l", i), "ledger.db"), filepath.Join(w.dir, fmt.Sprint("o", i))
		err, code, stdout, stderr := privRun(t, "", append([]string{"run", "--manifest", w.good, "--state", ledger, "--out", out,
			"--base-url", w.base, "--timezone", ctsim.DefaultTimezone, "--verify-first", "20ms", "--verify-window", "5s"}, flag...)...)
		if code != ExitRowsFailed {
			t.Fatalf("exit %d (%v)\n%s", code, err, stderr)
		}
		privCheckOutput(t, w, "stdout", stdout)
		privCheckOutput(t, w, "stderr", stderr)
	}
	privCheckFiles(t, w.dir)
}

// TestPrivValidate: validate lists rejects by file, row, request and
// column, never by what the rows hold.
func TestPrivValidate(t *testing.T) {
	w := privNewWorld(t)
	out := filepath.Join(w.dir, "validate-out")
	err, code, stdout, stderr := privRun(t, privPasscode, "validate", "--manifest", w.good, "--manifest", w.bad, "--out", out)
	if code != ExitRowsFailed {
		t.Fatalf("exit %d (%v)\nstdout:\n%s\nstderr:\n%s", code, err, stdout, stderr)
	}
	for _, want := range []string{
		w.bad + ":2: request PRV-R1: column email: not a valid email address",
		w.bad + ":3: request PRV-R2: column request_type: unknown request type \"refund\"",
		w.bad + ":4: column request_id: missing request id",
		w.bad + ":5: request PRV-R4: needs an email or a user id",
		w.bad + ":7: request PRV-R6: column email: not a valid email address: more than one @",
		"rejects: ",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	privCheckOutput(t, w, "validate stdout", stdout)
	privCheckOutput(t, w, "validate stderr", stderr)
	privCheckFiles(t, w.dir)

	// A manifest whose header row is missing: the error names the file
	// and the row, and shows no subject's data.
	headless := filepath.Join(w.dir, "headless.csv")
	privWrite(t, headless, "PRV-01,access,zqxmail01@zqx-mail.example,zqxuid-01,2026-01-01\n")
	for _, args := range [][]string{
		{"validate", "--manifest", headless},
		{"run", "--manifest", headless, "--state", filepath.Join(w.dir, "h.db"), "--out", filepath.Join(w.dir, "h"), "--base-url", w.base},
	} {
		err, code, stdout, stderr = privRun(t, privPasscode, args...)
		if code != ExitUsage || !strings.Contains(stderr, headless+": row 1: missing required column") {
			t.Errorf("%s: exit %d (%v), want 2 naming the file and row\nstderr:\n%s", args[0], code, err, stderr)
		}
		privCheckOutput(t, w, args[0]+" stdout (no header)", stdout)
		privCheckOutput(t, w, args[0]+" stderr (no header)", stderr)
	}

	// A manifest run cannot read at all: exit 2, one line naming it.
	missing := filepath.Join(w.dir, "missing.csv")
	err, code, _, stderr = privRun(t, privPasscode, "run", "--manifest", missing,
		"--state", filepath.Join(w.dir, "m.db"), "--out", filepath.Join(w.dir, "m"), "--base-url", w.base)
	if want := "ctdsr: " + missing + ": cannot read: no such file or directory\n"; code != ExitUsage || !strings.HasSuffix(stderr, want+"ctdsr: check the --manifest path\n") {
		t.Errorf("run with a missing manifest: exit %d (%v), want 2 and %q\nstderr:\n%s", code, err, want, stderr)
	}
}
