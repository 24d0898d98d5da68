package ctsim

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Fault is a failure the simulator can inject into a request.
type Fault string

// The faults the simulator can inject.
const (
	Fault429   Fault = "429"   // 429 "Too many concurrent requests", as if over the limit
	Fault500   Fault = "500"   // 500 "Internal Server Error"
	Fault503   Fault = "503"   // 503 "Service Unavailable"
	FaultReset Fault = "reset" // the connection is hijacked and closed without a reply
	FaultSlow  Fault = "slow"  // no reply for SlowFaultDuration, or until the client gives up
)

// SlowFaultDuration bounds how long a FaultSlow request waits before it is
// answered normally. It is longer than any sane client timeout.
const SlowFaultDuration = 2 * time.Minute

func (f Fault) valid() bool {
	switch f {
	case Fault429, Fault500, Fault503, FaultReset, FaultSlow:
		return true
	}
	return false
}

// Options choose how the simulator behaves where CleverTap's documentation
// is silent or sources disagree. The zero value is the documented default
// for every field.
type Options struct {
	NotFoundMode       string        // "success_null" (default) | "success_absent" | "fail_200" | "http_404"
	NotFoundText       string        // the error text of fail_200 and http_404; default "Profile not found"
	LookupFailText     string        // when set, every profile.json lookup is refused with this text…
	LookupFailStatus   int           // …on this HTTP status (default 200; the body's code is 400, or the status if not 200)
	MultiMatch         string        // "last_updated" (default) | "first_created" | "error"
	ProfileFilter      string        // "apply" (default) | "ignore" | "reject"
	NotReadyPages      int           // first N fetches of every cursor answer code 2 "Request still in progress, please retry later"
	NotReadyHTTPStatus int           // 200 (default) | 202
	DeletionDelay      time.Duration // default 48h on the sim clock; set NoDeletionDelay for 0
	NoDeletionDelay    bool
	KeepEventsOnDelete bool // default false: events go with the profile
	PadProfileBytes    int  // pad every profile record's profileData with a "_pad" property of this many bytes (huge answers)

	// Limits is the in-flight limit per group, merged over the defaults
	// "profile":3 "profiles":3 "events":3 "delete":3 "demerge":3 "upload":15
	// "counts":3. A value of 0 or less means no limit for that group.
	Limits            map[string]int
	SharedProfilePool bool                     // GET profile.json counts against "profiles" instead of its own "profile" group
	Latency           map[string]time.Duration // per-group artificial latency, real time, honours request ctx
	RPS               float64                  // optional leaky bucket over all /1/ requests, 0 = off; overflow → 429
	Sticky429         time.Duration            // keep rejecting a group this long after an overflow (sim clock)

	FaultSeed  int64   // seeds the random faults
	FaultRate  float64 // probability per request of a fault drawn from FaultKinds
	FaultKinds []Fault // default 500 and 503

	BatchSizeDefault int    // default 10
	BatchSizeOverMax string // "clamp" (default) | "reject400"
	PageQuirk23      bool   // page sizes are rounded up to a multiple of 23
	StrictEventNames bool   // an event name no stored event has → 200 fail "Invalid event : X"
	StrictRegion     bool   // a region host other than the account's → 401 "Invalid Credentials"

	EventsCursorTTL, EventsCursorIdle, ProfilesCursorTTL time.Duration // defaults 4h, 1h, 96h on the sim clock

	// Real answer shapes (the project's API notes, "Real answers seen in
	// public code"). Cursors are real-sized by default.
	ShortCursors          bool     // ~150-character cursors instead of real-sized ones (1.5–2.4 KB)
	LastPageBare          bool     // the last page of an export carries neither previous_cursor nor next_cursor
	Step1Pending          int      // the first N step-1 requests (events.json and profiles.json) answer HTTP 202…
	Step1PendingBody      string   // …with this body (default empty)
	UnexportableEvents    []string // step 1 for these event names answers 200 fail "[\"Invalid event : NAME\"]" code 400
	AnonymousEventRecords bool     // event records carry no identity, email, name, phone or id, but df and device fields even without app=true
	StringCodes           bool     // every fail body's "code" is a JSON string ("400")
	NestedPlatformInfo    bool     // profile records carry email and events inside platformInfo[0], not at the top level

	// Misbehaviour that a client must never mistake for an answer.
	WrongPerson bool   // a lookup by email or identity answers with the record of a profile that has neither
	RedirectTo  string // every /1/ request answers 302 to this origin (same path and query), e.g. "https://elsewhere.example"

	Now time.Time // sim clock start; zero → 2026-01-15T12:00:00Z
}

// Defaults applied by New.
const (
	DefaultDeletionDelay     = 48 * time.Hour
	DefaultBatchSize         = 10
	MaxBatchSize             = 5000
	DefaultEventsCursorTTL   = 4 * time.Hour
	DefaultEventsCursorIdle  = time.Hour
	DefaultProfilesCursorTTL = 96 * time.Hour
	MaxDeleteIDs             = 100 // per identity or guid array
)

// DefaultNow is where the sim clock starts when Options.Now is zero.
var DefaultNow = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

// Groups are the API groups that the concurrency limits count against.
var defaultLimits = map[string]int{
	"profile": 3, "profiles": 3, "events": 3, "delete": 3, "demerge": 3, "upload": 15, "counts": 3,
}

// ErrInvalidOptions is wrapped by every error New returns for bad Options.
var ErrInvalidOptions = errors.New("invalid simulator options")

// ErrInvalidDataset is wrapped by every error New returns for a bad Dataset.
var ErrInvalidDataset = errors.New("invalid dataset")

// withDefaults validates o and returns a copy with every default filled in.
func (o Options) withDefaults() (Options, error) {
	bad := func(format string, args ...any) (Options, error) {
		return o, fmt.Errorf("%w: %s", ErrInvalidOptions, fmt.Sprintf(format, args...))
	}
	var err error
	if o.NotFoundMode, err = oneOf("NotFoundMode", o.NotFoundMode, "success_null", "success_absent", "fail_200", "http_404"); err != nil {
		return bad("%v", err)
	}
	if o.NotFoundText == "" {
		o.NotFoundText = msgProfileNotFound
	}
	switch {
	case o.LookupFailStatus == 0:
		o.LookupFailStatus = 200
	case o.LookupFailText == "":
		return bad("LookupFailStatus %d without a LookupFailText", o.LookupFailStatus)
	case o.LookupFailStatus < 200 || o.LookupFailStatus > 599 || o.LookupFailStatus/100 == 3:
		return bad("LookupFailStatus %d is not a 2xx, 4xx or 5xx status", o.LookupFailStatus)
	}
	if o.MultiMatch, err = oneOf("MultiMatch", o.MultiMatch, "last_updated", "first_created", "error"); err != nil {
		return bad("%v", err)
	}
	if o.ProfileFilter, err = oneOf("ProfileFilter", o.ProfileFilter, "apply", "ignore", "reject"); err != nil {
		return bad("%v", err)
	}
	if o.BatchSizeOverMax, err = oneOf("BatchSizeOverMax", o.BatchSizeOverMax, "clamp", "reject400"); err != nil {
		return bad("%v", err)
	}
	if o.Step1Pending < 0 {
		return bad("Step1Pending %d is negative", o.Step1Pending)
	}
	if o.Step1PendingBody != "" && o.Step1Pending == 0 {
		return bad("Step1PendingBody without Step1Pending")
	}
	o.UnexportableEvents = slices.Clone(o.UnexportableEvents)
	for _, name := range o.UnexportableEvents {
		if strings.TrimSpace(name) == "" {
			return bad("UnexportableEvents holds an empty name")
		}
	}
	if o.RedirectTo != "" {
		u, err := url.Parse(o.RedirectTo)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return bad("RedirectTo %q is not an http(s) origin", o.RedirectTo)
		}
		o.RedirectTo = u.Scheme + "://" + u.Host
	}
	if o.PadProfileBytes < 0 {
		return bad("PadProfileBytes %d is negative", o.PadProfileBytes)
	}
	if o.NotReadyPages < 0 {
		return bad("NotReadyPages %d is negative", o.NotReadyPages)
	}
	switch o.NotReadyHTTPStatus {
	case 0:
		o.NotReadyHTTPStatus = 200
	case 200, 202:
	default:
		return bad("NotReadyHTTPStatus %d is not 200 or 202", o.NotReadyHTTPStatus)
	}
	switch {
	case o.DeletionDelay < 0:
		return bad("DeletionDelay %v is negative", o.DeletionDelay)
	case o.NoDeletionDelay:
		o.DeletionDelay = 0
	case o.DeletionDelay == 0:
		o.DeletionDelay = DefaultDeletionDelay
	}
	limits := make(map[string]int, len(defaultLimits))
	for g, n := range defaultLimits {
		limits[g] = n
	}
	for g, n := range o.Limits {
		if _, ok := defaultLimits[g]; !ok {
			return bad("Limits: unknown group %q", g)
		}
		limits[g] = n
	}
	o.Limits = limits
	latency := make(map[string]time.Duration, len(o.Latency))
	for g, d := range o.Latency {
		if _, ok := defaultLimits[g]; !ok {
			return bad("Latency: unknown group %q", g)
		}
		if d < 0 {
			return bad("Latency for %q is negative", g)
		}
		latency[g] = d
	}
	o.Latency = latency
	if o.RPS < 0 {
		return bad("RPS %v is negative", o.RPS)
	}
	if o.Sticky429 < 0 {
		return bad("Sticky429 %v is negative", o.Sticky429)
	}
	if o.FaultRate < 0 || o.FaultRate > 1 {
		return bad("FaultRate %v is outside [0, 1]", o.FaultRate)
	}
	for _, f := range o.FaultKinds {
		if !f.valid() {
			return bad("unknown fault kind %q", f)
		}
	}
	if len(o.FaultKinds) == 0 {
		o.FaultKinds = []Fault{Fault500, Fault503}
	} else {
		o.FaultKinds = append([]Fault(nil), o.FaultKinds...)
	}
	switch {
	case o.BatchSizeDefault < 0 || o.BatchSizeDefault > MaxBatchSize:
		return bad("BatchSizeDefault %d is outside [1, %d]", o.BatchSizeDefault, MaxBatchSize)
	case o.BatchSizeDefault == 0:
		o.BatchSizeDefault = DefaultBatchSize
	}
	for _, d := range []*struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"EventsCursorTTL", &o.EventsCursorTTL, DefaultEventsCursorTTL},
		{"EventsCursorIdle", &o.EventsCursorIdle, DefaultEventsCursorIdle},
		{"ProfilesCursorTTL", &o.ProfilesCursorTTL, DefaultProfilesCursorTTL},
	} {
		if *d.v < 0 {
			return bad("%s %v is negative", d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if o.Now.IsZero() {
		o.Now = DefaultNow
	}
	return o, nil
}

// oneOf returns v, or the first allowed value when v is empty, or an error
// when v is not allowed.
func oneOf(field, v string, allowed ...string) (string, error) {
	if v == "" {
		return allowed[0], nil
	}
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s %q is not one of %q", field, v, allowed)
}
