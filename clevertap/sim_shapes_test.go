package clevertap

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// istDataset is the generated dataset on an account in Asia/Kolkata.
func istDataset() *ctsim.Dataset {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 7, Profiles: 40, EventsPerProfile: 8, SharedEmailEvery: 10})
	ds.Account.Timezone = "Asia/Kolkata"
	return ds
}

// On an IST account, ts is local time: with the account's zone every event
// time is the true instant, and a profile's first_seen for an event equals
// the time of its earliest record (the evidence a run can check the zone
// with). In UTC the times are 5 h 30 min off.
func TestSimAccountTimezone(t *testing.T) {
	ist, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	ds := istDataset()
	sim, c := simServe(t, ds, ctsim.Options{}, WithTimezone(ist))
	p := subject(t, sim, ds)
	prof, err := c.Profile(t.Context(), ByIdentity, p.Identity)
	if err != nil {
		t.Fatal(err)
	}
	for name, sum := range prof.Events {
		q := EventQuery{EventName: name, From: DateOf(sum.FirstSeen, ist), To: DateOf(sum.LastSeen, ist)}
		recs, _, err := collect(t.Context(), c, q)
		if err != nil {
			t.Fatalf("Events(%s): %v", name, err)
		}
		got := timesOf(recs, p)
		if want := truth(sim, p, name); !slices.Equal(got, want) {
			t.Errorf("%s: times %v, want %v", name, got, want)
		}
		if len(got) == 0 || !got[0].Equal(sum.FirstSeen) || !got[len(got)-1].Equal(sum.LastSeen) {
			t.Errorf("%s: records span %v, summary says %v to %v", name, got, sum.FirstSeen, sum.LastSeen)
		}
	}

	_, utc := simServe(t, istDataset(), ctsim.Options{}) // the client left at UTC
	name := sim.EventsOf(deviceIDs(p)...)[0].Name
	recs, _, err := collect(t.Context(), utc, wholeRange(name))
	if err != nil {
		t.Fatal(err)
	}
	want := truth(sim, p, name)
	if got := timesOf(recs, p); len(got) != len(want) || got[0].Sub(want[0]) != 5*time.Hour+30*time.Minute {
		t.Errorf("read as UTC, times %v, want %v shifted by 5h30m", got, want)
	}
}

func TestSimStep1Pending(t *testing.T) {
	for _, body := range []string{"", `{"status":"success","cursor":"not-yet"}`} {
		sim, ds, c := simSetup(t, ctsim.Options{Step1Pending: 2, Step1PendingBody: body})
		p := subject(t, sim, ds)
		name := sim.EventsOf(deviceIDs(p)...)[0].Name
		recs, _, err := collect(t.Context(), c, wholeRange(name))
		if err != nil {
			t.Fatalf("Events after two pending step 1s: %v", err)
		}
		if got, want := timesOf(recs, p), truth(sim, p, name); !slices.Equal(got, want) {
			t.Errorf("times %v, want %v", got, want)
		}
		if st := c.Stats(); st.Retries[GroupEvents] != 2 {
			t.Errorf("%d retries, want 2 (step 1 answered 202 twice)", st.Retries[GroupEvents])
		}
	}
}

func TestSimUnexportableEvent(t *testing.T) {
	sim, ds, c := simSetup(t, ctsim.Options{UnexportableEvents: []string{"Charged"}})
	_, _, err := collect(t.Context(), c, wholeRange("Charged"))
	var api *APIError
	if !errors.Is(err, ErrInvalidRequest) || !errors.As(err, &api) || api.Message != "Invalid event : Charged" {
		t.Fatalf("export of an unexportable event: %v, want ErrInvalidRequest 'Invalid event : Charged'", err)
	}
	// With a filter the refusal reads as the filter's; the caller retries
	// without it and gets the same refusal, which tells the two apart.
	q := wholeRange("Charged")
	q.FilterEmail = subject(t, sim, ds).Email
	if _, _, err := collect(t.Context(), c, q); !errors.Is(err, ErrFilterRejected) {
		t.Errorf("filtered export: %v, want ErrFilterRejected", err)
	}
	if _, _, err := collect(t.Context(), c, wholeRange("App Launched")); err != nil {
		t.Errorf("another event: %v", err)
	}
}

func TestSimAnonymousEventRecords(t *testing.T) {
	sim, ds, c := simSetup(t, ctsim.Options{AnonymousEventRecords: true})
	p := subject(t, sim, ds)
	name := sim.EventsOf(deviceIDs(p)...)[0].Name
	recs, _, err := collect(t.Context(), c, wholeRange(name))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := timesOf(recs, p), truth(sim, p, name); !slices.Equal(got, want) {
		t.Errorf("matched by objectId: times %v, want %v", got, want)
	}
	for _, r := range recs {
		if r.ObjectID == "" || r.Identity != "" || r.Email != "" {
			t.Fatalf("record %+v: want an objectId and no identity or email", r)
		}
	}
}

func TestSimStringCodes(t *testing.T) {
	sim, ds, c := simSetup(t, ctsim.Options{StringCodes: true, NotReadyPages: 1, NotFoundMode: "fail_200"})
	p := subject(t, sim, ds)
	if _, _, err := collect(t.Context(), c, wholeRange(sim.EventsOf(deviceIDs(p)...)[0].Name)); err != nil {
		t.Errorf("Events with string code 2: %v", err)
	}
	if _, err := c.Profile(t.Context(), ByIdentity, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Profile with a string code: %v, want ErrNotFound", err)
	}
	bad := mustClient(t, WithBaseURL(c.baseURL), WithCredentials(ds.Account.ID, "wrong"))
	_, err := bad.Profile(t.Context(), ByIdentity, p.Identity)
	var api *APIError
	if !errors.Is(err, ErrUnauthorized) || !errors.As(err, &api) || api.Code != 401 {
		t.Errorf("wrong passcode: %v, want ErrUnauthorized with code 401", err)
	}
}

func TestSimNestedPlatformInfo(t *testing.T) {
	sim, ds, c := simSetup(t, ctsim.Options{NestedPlatformInfo: true})
	p := subject(t, sim, ds)
	got, err := c.Profile(t.Context(), ByIdentity, p.Identity)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, e := range got.Events {
		n += e.Count
	}
	if got.Email != p.Email || n != int64(len(sim.EventsOf(deviceIDs(p)...))) {
		t.Errorf("email %q and %d events from platformInfo, want %q and %d", got.Email, n, p.Email, len(sim.EventsOf(deviceIDs(p)...)))
	}
}

// The client does not check a record against the question (the caller
// must); it returns what was answered.
func TestSimWrongPerson(t *testing.T) {
	sim, ds, c := simSetup(t, ctsim.Options{WrongPerson: true})
	p := subject(t, sim, ds)
	got, err := c.Profile(t.Context(), ByEmail, p.Email)
	if err != nil {
		t.Fatal(err)
	}
	if strings.EqualFold(got.Email, p.Email) || got.Identity == p.Identity {
		t.Errorf("WrongPerson answered with the subject")
	}
}

func TestSimRedirect(t *testing.T) {
	var mu sync.Mutex
	followed := 0
	elsewhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		mu.Lock()
		followed++
		mu.Unlock()
	}))
	t.Cleanup(elsewhere.Close)
	_, _, c := simSetup(t, ctsim.Options{RedirectTo: elsewhere.URL})
	for name, call := range ops {
		err := call(t.Context(), c)
		var api *APIError
		if !errors.Is(err, ErrConfig) || !errors.As(err, &api) || api.HTTPStatus != http.StatusFound ||
			!strings.Contains(api.Message, "redirect to host "+strings.TrimPrefix(elsewhere.URL, "http://")) {
			t.Errorf("%s: %v, want ErrConfig naming the other host", name, err)
		}
	}
	if st := c.Stats(); st.Retries[GroupProfile]+st.Retries[GroupEvents]+st.Retries[GroupDelete] != 0 {
		t.Errorf("a redirect was retried: %+v", st.Retries)
	}
	mu.Lock()
	defer mu.Unlock()
	if followed != 0 {
		t.Errorf("the redirect was followed %d times", followed)
	}
}

func TestSimCursorShapes(t *testing.T) {
	for _, opts := range []ctsim.Options{{}, {ShortCursors: true}, {LastPageBare: true}} {
		sim, ds, c := simSetup(t, opts)
		p := subject(t, sim, ds)
		name := sim.EventsOf(deviceIDs(p)...)[0].Name
		q := wholeRange(name)
		q.BatchSize = 7
		recs, pages, err := collect(t.Context(), c, q)
		if err != nil {
			t.Fatalf("%+v: %v", opts, err)
		}
		if got, want := timesOf(recs, p), truth(sim, p, name); !slices.Equal(got, want) || pages < 3 {
			t.Errorf("%+v: %d pages, times %v, want several pages and %v", opts, pages, got, want)
		}
	}
}

// tee keeps a copy of everything a handler writes.
type tee struct {
	http.ResponseWriter
	mu  *sync.Mutex
	out *strings.Builder
}

func (t tee) Write(b []byte) (int, error) {
	t.mu.Lock()
	t.out.Write(b)
	t.mu.Unlock()
	return t.ResponseWriter.Write(b)
}

// The client's exports ask for records without the event summary.
func TestSimExportsLeaveOutTheEventSummary(t *testing.T) {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 7, Profiles: 40, EventsPerProfile: 8})
	sim, err := ctsim.New(ds, ctsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var pages strings.Builder
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("cursor") {
			w = tee{w, &mu, &pages}
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c := mustClient(t, WithBaseURL(srv.URL), WithCredentials(ds.Account.ID, Passcode(ds.Account.Passcodes[0])))
	recs, _, err := collect(t.Context(), c, wholeRange("Charged"))
	if err != nil || len(recs) == 0 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := pages.String(); strings.Contains(got, `"events":{`) || !strings.Contains(got, `"profileData":{`) {
		t.Errorf("pages carry the event summary, or lack profileData: %.300s", got)
	}
}
