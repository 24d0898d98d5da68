package ctsim

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // account timezones must load on machines without zoneinfo
)

// Server is a simulated CleverTap REST API (v1) for one account. It is an
// http.Handler, safe for concurrent use.
type Server struct {
	opts      Options
	account   Account
	loc       *time.Location
	passcodes map[string]bool
	routes    map[string]route

	mu        sync.Mutex // guards everything below and the store
	now       time.Time
	st        *store
	cursors   *cursorStore
	newIDs    int64 // objectIds made by AddProfile and Recreate
	step1Seen int   // step-1 requests, for Step1Pending

	lim *limiter

	// hold, when set by tests, runs after a request is admitted, while it
	// counts as in flight.
	hold func(group string)
}

// regions maps an API host to the region it serves.
var regions = map[string]string{
	"api.clevertap.com":      "eu1",
	"eu1.api.clevertap.com":  "eu1",
	"in1.api.clevertap.com":  "in1",
	"sg1.api.clevertap.com":  "sg1",
	"us1.api.clevertap.com":  "us1",
	"aps3.api.clevertap.com": "aps3",
	"mec1.api.clevertap.com": "mec1",
	"sk1.api.clevertap.com":  "sk1",
}

// New returns a simulator serving a copy of ds with opts. It returns an
// error wrapping ErrInvalidOptions or ErrInvalidDataset when either is bad.
func New(ds *Dataset, opts Options) (*Server, error) {
	if ds == nil {
		return nil, fmt.Errorf("%w: nil dataset", ErrInvalidDataset)
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	acct, loc, err := checkAccount(ds.Account)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDataset, err)
	}
	s := &Server{
		opts:      o,
		account:   acct,
		loc:       loc,
		passcodes: map[string]bool{},
		now:       o.Now,
		st:        newStore(o.KeepEventsOnDelete),
		cursors:   newCursorStore(o.ShortCursors),
		lim:       newLimiter(o),
	}
	for _, p := range acct.Passcodes {
		s.passcodes[p] = true
	}
	s.routes = s.makeRoutes()
	for i, p := range ds.Profiles {
		if _, err := s.st.addProfile(p); err != nil {
			return nil, fmt.Errorf("%w: profile %d: %w", ErrInvalidDataset, i, err)
		}
	}
	for i, e := range ds.Events {
		if err := s.st.addEvent(e); err != nil {
			return nil, fmt.Errorf("%w: event %d: %w", ErrInvalidDataset, i, err)
		}
	}
	return s, nil
}

func checkAccount(a Account) (Account, *time.Location, error) {
	if a.ID == "" {
		return a, nil, fmt.Errorf("account has no id")
	}
	var codes []string
	for _, p := range a.Passcodes {
		if p != "" {
			codes = append(codes, p)
		}
	}
	if len(codes) == 0 {
		return a, nil, fmt.Errorf("account %s has no passcode", a.ID)
	}
	a.Passcodes = codes
	if a.Region == "" {
		a.Region = "eu1"
	}
	if _, ok := regions[a.Region+".api.clevertap.com"]; !ok {
		return a, nil, fmt.Errorf("account %s: unknown region %q", a.ID, a.Region)
	}
	if a.Timezone == "" {
		a.Timezone = "UTC"
	}
	loc, err := time.LoadLocation(a.Timezone)
	if err != nil {
		return a, nil, fmt.Errorf("account %s: timezone: %w", a.ID, err)
	}
	return a, loc, nil
}

// route is one API endpoint.
type route struct {
	group   string
	methods []string
	handle  func(w http.ResponseWriter, r *http.Request)
}

func (s *Server) makeRoutes() map[string]route {
	profileGroup := "profile"
	if s.opts.SharedProfilePool {
		profileGroup = "profiles"
	}
	return map[string]route{
		"/1/profile.json":          {profileGroup, []string{"GET"}, s.handleProfile},
		"/1/profiles.json":         {"profiles", []string{"GET", "POST"}, s.handleProfiles},
		"/1/events.json":           {"events", []string{"GET", "POST"}, s.handleEvents},
		"/1/delete/profiles.json":  {"delete", []string{"POST"}, s.handleDelete},
		"/1/demerge/profiles.json": {"demerge", []string{"POST"}, s.handleDemerge},
	}
}

// ServeHTTP serves the CleverTap API under /1/ and the simulator's admin
// endpoints under /_sim/.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.opts.StringCodes {
		w = &stringCodes{ResponseWriter: w}
	}
	switch {
	case strings.HasPrefix(r.URL.Path, "/1/") && s.opts.RedirectTo != "":
		http.Redirect(w, r, s.opts.RedirectTo+r.URL.RequestURI(), http.StatusFound)
	case strings.HasPrefix(r.URL.Path, "/1/"):
		s.serveAPI(w, r)
	case strings.HasPrefix(r.URL.Path, "/_sim/"):
		s.serveAdmin(w, r)
	default:
		writeFail(w, http.StatusNotFound, 404, msgNotFound)
	}
}

// serveAPI checks credentials before anything else, then routes, admits
// the request past the limits, injects faults and latency, and handles it.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	rt, ok := s.routes[r.URL.Path]
	if !ok {
		writeFail(w, http.StatusNotFound, 404, msgNotFound)
		return
	}
	if !slices.Contains(rt.methods, r.Method) {
		w.Header().Set("Allow", strings.Join(rt.methods, ", "))
		writeFail(w, http.StatusMethodNotAllowed, 405, msgMethodNotAllowed)
		return
	}
	fault := s.lim.enter(rt.group)
	if fault == Fault429 {
		writeTooMany(w)
		return
	}
	release, ok := s.lim.admit(rt.group, s.Now())
	if !ok {
		writeTooMany(w)
		return
	}
	defer release()
	if s.hold != nil {
		s.hold(rt.group)
	}
	if fault != "" && s.inject(w, r, fault) {
		return
	}
	if d := s.opts.Latency[rt.group]; d > 0 && !sleepCtx(r, d) {
		return
	}
	rt.handle(w, r)
}

// authorized answers 401 unless the request carries the account's id and
// one of its passcodes (header names in any case), to the right region.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("X-CleverTap-Account-Id") != s.account.ID {
		writeFail(w, http.StatusUnauthorized, 401, msgAccountInvalid)
		return false
	}
	if !s.passcodes[r.Header.Get("X-CleverTap-Passcode")] {
		writeFail(w, http.StatusUnauthorized, 401, msgInvalidCreds)
		return false
	}
	if s.opts.StrictRegion {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if region, ok := regions[strings.ToLower(host)]; ok && region != s.account.Region {
			writeFail(w, http.StatusUnauthorized, 401, msgInvalidCreds)
			return false
		}
	}
	return true
}

// sleepCtx waits d, or until the request is cancelled; it reports whether
// the whole wait passed.
func sleepCtx(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// Now reports the sim clock.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// Advance moves the sim clock forward by d (a negative d is ignored).
// Deletions whose time has come take effect, and cursors expire.
func (s *Server) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = s.now.Add(d)
	s.st.purge(s.now)
	s.cursors.expire(s.now)
}

// locked runs f with the mutex held, after applying due deletions.
func (s *Server) locked(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.purge(s.now)
	f()
}
