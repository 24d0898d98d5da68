package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/batch/report"
	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// Helpers of the end-to-end tests of `ctdsr run`, `status`, `demo` and
// `--dry-run`: a simulator over real HTTP, the command driven in-process
// through run(ctx, env, args), and the Parquet outputs read back.

// simServer is a simulator behind httptest, with a count of every HTTP
// request it received (ctsim's own Stats count only authenticated ones).
type simServer struct {
	*ctsim.Server
	URL string
	// Zone is the account's timezone, which runArgs passes as --timezone
	// (empty: none, as on a first run that does not know it).
	Zone string
	HTTP atomic.Int64 // every request, 401s included

	// afterDelete, when set, runs after the simulator carried out a delete
	// call and before its reply leaves: the delete is accepted, but the
	// client does not know yet.
	afterDelete atomic.Pointer[func(*http.Request)]
}

// startSimServer serves a simulator of ds until the test ends.
func startSimServer(t testing.TB, ds *ctsim.Dataset, opts ctsim.Options) *simServer {
	t.Helper()
	sim, err := ctsim.New(ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	s := &simServer{Server: sim, Zone: ds.Account.Timezone}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/1/") {
			s.HTTP.Add(1)
		}
		if hook := s.afterDelete.Load(); hook != nil && r.URL.Path == "/1/delete/profiles.json" {
			rec := httptest.NewRecorder()
			sim.ServeHTTP(rec, r)
			(*hook)(r)
			maps.Copy(w.Header(), rec.Header())
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// totalCalls is the number of API calls the simulator has answered.
func (s *simServer) totalCalls() int64 {
	var n int64
	for _, c := range s.Stats().Calls {
		n += c
	}
	return n
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a run.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// result is what one in-process command returned.
type result struct {
	code           int
	err            error
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d (err %v)\nstdout:\n%s\nstderr:\n%s", r.code, r.err, r.stdout, r.stderr)
}

// credentials are the demo account's, as the environment of a run.
func credentials(passcode string) func(string) string {
	return func(k string) string {
		switch k {
		case "CLEVERTAP_ACCOUNT_ID":
			return ctsim.DemoAccountID
		case "CLEVERTAP_PASSCODE":
			return passcode
		}
		return ""
	}
}

// ctdsr runs one subcommand in-process with the demo credentials and maps
// its error to the exit code as main does.
func ctdsr(t testing.TB, args ...string) result {
	t.Helper()
	return ctdsrEnv(t, t.Context(), credentials(ctsim.DemoPasscode), args...)
}

func ctdsrEnv(t testing.TB, ctx context.Context, getenv func(string) string, args ...string) result {
	t.Helper()
	var out, errOut syncBuffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Getenv: getenv}
	err := run(ctx, env, args)
	code := exitCode(ctx, env, err)
	return result{code: code, err: err, stdout: out.String(), stderr: errOut.String()}
}

// runArgs are the usual flags of a test run against sim: short verification
// timings (the engine waits on real timers), the account's timezone, the
// given ledger and output.
func runArgs(sim *simServer, state, out string, extra ...string) []string {
	args := []string{"run", "--state", state, "--out", out, "--base-url", sim.URL,
		"--verify-first", "50ms", "--verify-window", "400ms", "--log-level", "info"}
	if sim.Zone != "" {
		args = append(args, "--timezone", sim.Zone)
	}
	return append(args, extra...)
}

// manifestRow is one data row of a test manifest.
type manifestRow struct {
	ID, Type, Email, UserID, Submitted string
}

// writeManifestCSV writes rows under the usual header and returns the path.
func writeManifestCSV(t testing.TB, dir string, rows []manifestRow) string {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"request_id", "request_type", "email", "user_id", "submitted_at"})
	for _, r := range rows {
		w.Write([]string{r.ID, r.Type, r.Email, r.UserID, r.Submitted})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "manifest.csv")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// subjects picks profiles of ds for requests: n with both an identity and
// an email, after skipping the first skip such profiles.
func subjects(ds *ctsim.Dataset, skip, n int) []ctsim.Profile {
	var out []ctsim.Profile
	for _, p := range ds.Profiles {
		if p.Identity == "" || p.Email == "" {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		out = append(out, p)
		if len(out) == n {
			break
		}
	}
	return out
}

// outputs are the five Parquet reports of a run, read back.
type outputs struct {
	Requests  []report.RequestRow
	Profiles  []report.ProfileRow
	Events    []report.EventRow
	Deletions []report.DeletionRow
	Rejects   []report.RejectRow
}

func readOutputs(t testing.TB, dir string) outputs {
	t.Helper()
	return outputs{
		Requests:  readParquet[report.RequestRow](t, filepath.Join(dir, report.RequestsFile)),
		Profiles:  readParquet[report.ProfileRow](t, filepath.Join(dir, report.ProfilesFile)),
		Events:    readParquet[report.EventRow](t, filepath.Join(dir, report.EventsFile)),
		Deletions: readParquet[report.DeletionRow](t, filepath.Join(dir, report.DeletionsFile)),
		Rejects:   readParquet[report.RejectRow](t, filepath.Join(dir, report.RejectsFile)),
	}
}

func readParquet[T any](t testing.TB, path string) []T {
	t.Helper()
	rows, err := parquet.ReadFile[T](path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return rows
}

// withoutTimes clears the columns that record when something happened, so
// the outputs of two runs can be compared.
func (o outputs) withoutTimes() outputs {
	c := outputs{
		Requests: slices.Clone(o.Requests), Profiles: slices.Clone(o.Profiles), Events: slices.Clone(o.Events),
		Deletions: slices.Clone(o.Deletions), Rejects: slices.Clone(o.Rejects),
	}
	for i := range c.Requests {
		c.Requests[i].CompletedAt, c.Requests[i].DaysOpen = nil, 0
	}
	for i := range c.Profiles {
		c.Profiles[i].RetrievedAt = time.Time{}
	}
	for i := range c.Deletions {
		c.Deletions[i].DeleteRequestedAt, c.Deletions[i].VerifiedAt, c.Deletions[i].LastCheckedAt = nil, nil, nil
	}
	return c
}

// diffOutputs reports, file by file, where two runs' outputs differ.
func diffOutputs(t testing.TB, got, want outputs) {
	t.Helper()
	g, w := got.withoutTimes(), want.withoutTimes()
	diffRows(t, report.RequestsFile, g.Requests, w.Requests)
	diffRows(t, report.ProfilesFile, g.Profiles, w.Profiles)
	diffRows(t, report.EventsFile, g.Events, w.Events)
	diffRows(t, report.DeletionsFile, g.Deletions, w.Deletions)
	diffRows(t, report.RejectsFile, g.Rejects, w.Rejects)
}

func diffRows[T any](t testing.TB, file string, got, want []T) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d rows, want %d", file, len(got), len(want))
	}
	shown := 0
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("%s row %d:\n got %s\nwant %s", file, i, show(got[i]), show(want[i]))
			if shown++; shown == 3 {
				return
			}
		}
	}
}

func show(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// columns describes the top-level columns of a Parquet file from its own
// footer (not from the Go types that wrote it): "name PHYSICAL REPETITION
// LOGICAL", and for a list "name LIST<element PHYSICAL LOGICAL>".
func columns(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	els := pf.Metadata().Schema
	var out []string
	i := 1 // element 0 is the root
	var describe func() string
	describe = func() string {
		el := els[i]
		i++
		rep := ""
		if r, ok := el.RepetitionType.Get(); ok {
			rep = r.String()
		}
		if n, ok := el.NumChildren.Get(); ok {
			var kids []string
			for range n {
				kids = append(kids, describe())
			}
			return fmt.Sprintf("%s %s %s<%s>", el.Name, rep, logical(el.LogicalType), strings.Join(kids, ", "))
		}
		typ, _ := el.Type.Get()
		return strings.TrimSpace(fmt.Sprintf("%s %s %s %s", el.Name, typ, rep, logical(el.LogicalType)))
	}
	for i < len(els) {
		out = append(out, describe())
	}
	return out
}

func logical(lt format.LogicalType) string {
	switch v := lt.Value.(type) {
	case nil:
		return ""
	case *format.TimestampType:
		unit := "?"
		switch {
		case v.Unit.Value == nil:
		case reflect.TypeOf(v.Unit.Value) == reflect.TypeOf(&format.MicroSeconds{}):
			unit = "MICROS"
		case reflect.TypeOf(v.Unit.Value) == reflect.TypeOf(&format.MilliSeconds{}):
			unit = "MILLIS"
		case reflect.TypeOf(v.Unit.Value) == reflect.TypeOf(&format.NanoSeconds{}):
			unit = "NANOS"
		}
		utc := "local"
		if v.IsAdjustedToUTC {
			utc = "UTC"
		}
		return fmt.Sprintf("TIMESTAMP(%s,%s)", unit, utc)
	default:
		return strings.ToUpper(strings.TrimSuffix(fmt.Sprint(v), "()"))
	}
}

// The output contract of the README ("Outputs"), as the files' footers
// must state it.
var wantColumns = map[string][]string{
	report.RequestsFile: {
		"request_id BYTE_ARRAY REQUIRED STRING", "request_type BYTE_ARRAY REQUIRED STRING",
		"email BYTE_ARRAY OPTIONAL STRING", "user_id BYTE_ARRAY OPTIONAL STRING",
		"status BYTE_ARRAY REQUIRED STRING", "detail BYTE_ARRAY OPTIONAL STRING",
		"profiles_found INT32 REQUIRED INT(32,TRUE)", "events_exported INT64 REQUIRED INT(64,TRUE)",
		"submitted_at INT64 OPTIONAL TIMESTAMP(MICROS,UTC)", "due_at INT64 OPTIONAL TIMESTAMP(MICROS,UTC)",
		"completed_at INT64 OPTIONAL TIMESTAMP(MICROS,UTC)",
		"late BOOLEAN REQUIRED", "days_open INT32 REQUIRED INT(32,TRUE)",
	},
	report.ProfilesFile: {
		"request_id BYTE_ARRAY REQUIRED STRING", "matched_by BYTE_ARRAY REQUIRED STRING",
		"object_ids REQUIRED LIST<list REPEATED <element BYTE_ARRAY REQUIRED STRING>>",
		"identity BYTE_ARRAY OPTIONAL STRING", "email BYTE_ARRAY OPTIONAL STRING",
		"name BYTE_ARRAY OPTIONAL STRING", "phone BYTE_ARRAY OPTIONAL STRING",
		"profile_data_json BYTE_ARRAY REQUIRED STRING", "event_summary_json BYTE_ARRAY REQUIRED STRING",
		"platform_info_json BYTE_ARRAY REQUIRED STRING", "retrieved_at INT64 REQUIRED TIMESTAMP(MICROS,UTC)",
	},
	report.EventsFile: {
		"request_id BYTE_ARRAY REQUIRED STRING", "object_id BYTE_ARRAY REQUIRED STRING",
		"identity BYTE_ARRAY OPTIONAL STRING", "email BYTE_ARRAY OPTIONAL STRING",
		"event_name BYTE_ARRAY REQUIRED STRING", "event_time INT64 REQUIRED TIMESTAMP(MICROS,UTC)",
		"event_props_json BYTE_ARRAY REQUIRED STRING", "session_props_json BYTE_ARRAY REQUIRED STRING",
	},
	report.DeletionsFile: {
		"request_id BYTE_ARRAY REQUIRED STRING", "email BYTE_ARRAY OPTIONAL STRING",
		"user_id BYTE_ARRAY OPTIONAL STRING", "status BYTE_ARRAY REQUIRED STRING",
		"object_ids REQUIRED LIST<list REPEATED <element BYTE_ARRAY REQUIRED STRING>>",
		"delete_requested_at INT64 OPTIONAL TIMESTAMP(MICROS,UTC)", "verified_at INT64 OPTIONAL TIMESTAMP(MICROS,UTC)",
		"checks INT32 REQUIRED INT(32,TRUE)", "last_checked_at INT64 OPTIONAL TIMESTAMP(MICROS,UTC)",
		"detail BYTE_ARRAY OPTIONAL STRING",
	},
	report.RejectsFile: {
		"source_file BYTE_ARRAY REQUIRED STRING", "source_row INT64 REQUIRED INT(64,TRUE)",
		"request_id BYTE_ARRAY OPTIONAL STRING", "column BYTE_ARRAY OPTIONAL STRING",
		"reason BYTE_ARRAY REQUIRED STRING",
	},
}

// summaryFile is the part of summary.json the tests read.
type summaryFile struct {
	RunID     string    `json:"run_id"`
	Outcome   string    `json:"outcome"`
	Error     string    `json:"error"`
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at"`
	Manifests []struct {
		Path          string `json:"path"`
		SHA256        string `json:"sha256"`
		Rows          int    `json:"rows"`
		AlreadyLoaded bool   `json:"already_loaded"`
	} `json:"manifests"`
	Import struct {
		Added     int `json:"added"`
		Merged    int `json:"duplicates_merged"`
		Rejected  int `json:"rejected"`
		Conflicts int `json:"conflicts"`
	} `json:"import"`
	Reports report.Totals `json:"reports"`
	API     struct {
		PerGroupLimit int              `json:"per_group_limit"`
		Calls         map[string]int64 `json:"calls"`
		Attempts      map[string]int64 `json:"attempts"`
		Retries       map[string]int64 `json:"retries"`
		RateLimited   map[string]int64 `json:"rate_limited_429"`
	} `json:"api"`
	OutputFiles []report.FileDigest `json:"output_files"`
	Zone        batch.ZoneEvidence  `json:"timezone"`
	Ledger      struct {
		Requests int `json:"requests"`
		Open     int `json:"open"`
		Late     int `json:"late"`
	} `json:"ledger"`
	Run struct {
		WorkSeconds float64 `json:"work_seconds"`
	} `json:"run"`
	PreviousRunID         string `json:"previous_run_id"`
	PreviousSummarySHA256 string `json:"previous_summary_sha256"`
}

func readSummary(t testing.TB, dir string) summaryFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, report.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var s summaryFile
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("summary.json does not parse: %v\n%s", err, b)
	}
	return s
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// statusesOf counts requests.parquet rows by type and status.
func statusesOf(rows []report.RequestRow) map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, r := range rows {
		if out[r.RequestType] == nil {
			out[r.RequestType] = map[string]int{}
		}
		out[r.RequestType][r.Status]++
	}
	return out
}

func requestByID(rows []report.RequestRow) map[string]report.RequestRow {
	m := map[string]report.RequestRow{}
	for _, r := range rows {
		m[r.RequestID] = r
	}
	return m
}

func deletionByID(rows []report.DeletionRow) map[string]report.DeletionRow {
	m := map[string]report.DeletionRow{}
	for _, r := range rows {
		m[r.RequestID] = r
	}
	return m
}

// eventKey identifies an event by everything but the request it is for.
func eventKey(objectID, name string, at time.Time, props, session string) string {
	return strings.Join([]string{objectID, name, at.UTC().Format(time.RFC3339Nano), canonJSON(props), canonJSON(session)}, "|")
}

// canonJSON re-encodes a JSON text with sorted keys; "" and null are {}.
func canonJSON(s string) string {
	if s == "" || s == "null" {
		return "{}"
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return "unparseable:" + s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func mapJSON(m map[string]any) string {
	if len(m) == 0 {
		return "{}"
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "unmarshalable"
	}
	return string(b)
}

// groundTruth is, per subject, the events the simulator holds for every
// profile that matches its email or identity.
func groundTruth(t testing.TB, sim *simServer, email, identity string) (objectIDs []string, events []string) {
	t.Helper()
	for _, p := range sim.Lookup(email, identity) {
		for _, d := range p.Devices {
			objectIDs = append(objectIDs, d.ObjectID)
		}
	}
	for _, e := range sim.EventsOf(objectIDs...) {
		events = append(events, eventKey(e.ObjectID, e.Name, e.Time, mapJSON(e.EventProps), mapJSON(e.SessionProps)))
	}
	slices.Sort(events)
	return objectIDs, events
}

// checkPrivate fails unless path has exactly mode perm.
func checkMode(t testing.TB, path string, perm os.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Error(err)
		return
	}
	if got := st.Mode().Perm(); got != perm {
		t.Errorf("%s has mode %v, want %v", path, got, perm)
	}
}

// mkdir creates dir (and parents) and returns it.
func mkdir(t testing.TB, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}
