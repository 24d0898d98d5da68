package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

const simSynopsis = "[--addr 127.0.0.1:8080] [--data FILE | --profiles N --seed S] [flags]"

// simFlags are the flags of `ctdsr sim`.
type simFlags struct {
	addr         string
	allowRemote  bool
	data         string
	profiles     int
	seed         int64
	eventsPer    int
	sharedEvery  int
	clock        string
	latency      time.Duration
	limits       string
	faultKinds   string
	notReadyHTTP int
	opts         ctsim.Options
}

func newSimFlags(env *Env) (*simFlags, *flag.FlagSet) {
	f := &simFlags{}
	fs := newFlagSet(env, "sim", simSynopsis)
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "listen address; port 0 picks a free port")
	fs.BoolVar(&f.allowRemote, "allow-remote", false, "allow a listen address that is not loopback")
	fs.StringVar(&f.data, "data", "", "dataset JSON file (format of testdata/demo/dataset.json); default the built-in demo dataset")
	fs.IntVar(&f.profiles, "profiles", 0, "generate a dataset of N profiles instead of the demo dataset")
	fs.Int64Var(&f.seed, "seed", 1, "seed of the generated dataset")
	fs.IntVar(&f.eventsPer, "events-per-profile", 10, "average events per generated profile")
	fs.IntVar(&f.sharedEvery, "shared-email-every", 25, "every Nth generated profile shares its email with the previous one (0: none)")
	fs.StringVar(&f.clock, "clock", "real", "sim clock: real (follows the wall clock) or manual (moves only with POST /_sim/advance)")
	fs.DurationVar(&f.opts.DeletionDelay, "deletion-delay", ctsim.DefaultDeletionDelay, "how long after a delete the profile is gone (0: at once)")
	fs.BoolVar(&f.opts.KeepEventsOnDelete, "keep-events", false, "keep a deleted profile's events")
	fs.StringVar(&f.opts.NotFoundMode, "not-found-mode", "success_null", "profile not found: success_null, success_absent, fail_200 or http_404")
	fs.StringVar(&f.opts.MultiMatch, "multi-match", "last_updated", "several profiles with one email: last_updated, first_created or error")
	fs.StringVar(&f.opts.ProfileFilter, "profile-filter", "apply", "CQL common_profile_properties: apply, ignore or reject")
	fs.IntVar(&f.opts.NotReadyPages, "not-ready-pages", 0, "first N fetches of every cursor answer \"still in progress\"")
	fs.IntVar(&f.notReadyHTTP, "not-ready-status", 200, "HTTP status of a not-ready page: 200 or 202")
	fs.DurationVar(&f.latency, "latency", 0, "artificial latency of every API request")
	fs.StringVar(&f.limits, "limits", "", "in-flight limits per group, e.g. events=3,delete=1 (default 3 each, upload 15)")
	fs.BoolVar(&f.opts.SharedProfilePool, "shared-profile-pool", false, "GET profile.json counts against the profiles limit")
	fs.Float64Var(&f.opts.RPS, "rps", 0, "leaky bucket over all API requests, requests per second (0: off)")
	fs.DurationVar(&f.opts.Sticky429, "sticky-429", 0, "keep refusing a group this long after it overflowed")
	fs.Float64Var(&f.opts.FaultRate, "fault-rate", 0, "probability of a random fault per request")
	fs.Int64Var(&f.opts.FaultSeed, "fault-seed", 1, "seed of the random faults")
	fs.StringVar(&f.faultKinds, "fault-kinds", "500,503", "random fault kinds: 429, 500, 503, reset, slow")
	fs.IntVar(&f.opts.BatchSizeDefault, "batch-size-default", ctsim.DefaultBatchSize, "batch_size when a query gives none")
	fs.StringVar(&f.opts.BatchSizeOverMax, "batch-size-over-max", "clamp", "batch_size above 5000: clamp or reject400")
	fs.BoolVar(&f.opts.PageQuirk23, "page-quirk-23", false, "round page sizes up to multiples of 23")
	fs.BoolVar(&f.opts.StrictEventNames, "strict-event-names", false, "refuse event names no event has")
	fs.BoolVar(&f.opts.StrictRegion, "strict-region", false, "refuse region hosts other than the account's")
	return f, fs
}

// cmdSim serves the CleverTap simulator until ctx is cancelled.
func cmdSim(ctx context.Context, env *Env, args []string) error {
	f, fs := newSimFlags(env)
	if err := parseFlags(fs, "sim", args); err != nil {
		return err
	}
	if err := f.finish(); err != nil {
		return err
	}
	ds, source, err := f.dataset()
	if err != nil {
		return err
	}
	sim, err := ctsim.New(ds, f.opts)
	if err != nil {
		return usageErrorf("sim", "%w", err)
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", f.addr)
	if err != nil {
		return fmt.Errorf("sim: listen on %s: %w", f.addr, err)
	}
	base := "http://" + ln.Addr().String()
	printSimBanner(env.Stdout, base, ds, source, f)

	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if f.clock == "real" {
		go followWallClock(ctx, sim)
	}
	select {
	case err := <-served:
		return fmt.Errorf("sim: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
	}
	fmt.Fprintln(env.Stdout, "ctdsr sim: stopped")
	return nil
}

// finish checks the flags that need more than parsing and fills the
// options they stand for.
func (f *simFlags) finish() error {
	if err := checkLoopback(f.addr, f.allowRemote); err != nil {
		return err
	}
	if f.clock != "real" && f.clock != "manual" {
		return usageErrorf("sim", "--clock %q: want real or manual", f.clock)
	}
	if f.clock == "real" {
		// Start at the wall clock, so times the simulator stamps (a
		// returning user's new events) agree with the client's own clock.
		f.opts.Now = time.Now().UTC()
	}
	if f.profiles < 0 || (f.profiles > 0 && f.data != "") {
		return usageErrorf("sim", "give either --data or a positive --profiles, not both")
	}
	if f.opts.DeletionDelay == 0 {
		f.opts.NoDeletionDelay = true
	}
	f.opts.NotReadyHTTPStatus = f.notReadyHTTP
	if f.latency < 0 {
		return usageErrorf("sim", "--latency must not be negative")
	}
	if f.latency > 0 {
		f.opts.Latency = map[string]time.Duration{}
		for _, g := range []string{"profile", "profiles", "events", "delete", "demerge", "upload", "counts"} {
			f.opts.Latency[g] = f.latency
		}
	}
	if f.limits != "" {
		f.opts.Limits = map[string]int{}
		for part := range strings.SplitSeq(f.limits, ",") {
			g, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			n, err := strconv.Atoi(v)
			if !ok || err != nil {
				return usageErrorf("sim", "--limits %q: want group=N[,group=N…]", f.limits)
			}
			f.opts.Limits[g] = n
		}
	}
	f.opts.FaultKinds = nil
	for k := range strings.SplitSeq(f.faultKinds, ",") {
		if k = strings.TrimSpace(k); k != "" {
			f.opts.FaultKinds = append(f.opts.FaultKinds, ctsim.Fault(k))
		}
	}
	return nil
}

// checkLoopback refuses to serve beyond this machine unless asked to: the
// simulator has no real security.
func checkLoopback(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usageErrorf("sim", "--addr %q: %w", addr, err)
	}
	if allowRemote {
		return nil
	}
	ip := net.ParseIP(host)
	if host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return usageErrorf("sim", "--addr %q is not a loopback address; add --allow-remote to serve beyond this machine", addr)
}

// dataset loads, generates or embeds the dataset and says which it is.
func (f *simFlags) dataset() (*ctsim.Dataset, string, error) {
	switch {
	case f.data != "":
		ds, err := ctsim.LoadDataset(f.data)
		if err != nil {
			return nil, "", usageErrorf("sim", "%w", err)
		}
		return ds, f.data, nil
	case f.profiles > 0:
		ds := ctsim.Generate(ctsim.GenOptions{Seed: f.seed, Profiles: f.profiles, EventsPerProfile: f.eventsPer, SharedEmailEvery: f.sharedEvery})
		return ds, fmt.Sprintf("generated (seed %d)", f.seed), nil
	default:
		ds, err := ctsim.DemoDataset()
		if err != nil {
			return nil, "", fmt.Errorf("sim: %w", err)
		}
		return ds, "built-in demo dataset", nil
	}
}

// printSimBanner tells the user where the simulator is and how to call it.
// The passcode is the simulator's own, so printing it is fine.
func printSimBanner(w io.Writer, base string, ds *ctsim.Dataset, source string, f *simFlags) {
	passcode := ""
	if len(ds.Account.Passcodes) > 0 {
		passcode = ds.Account.Passcodes[0]
	}
	fmt.Fprintf(w, "CleverTap simulator listening on %s\n", base)
	fmt.Fprintf(w, "  account id: %s\n", ds.Account.ID)
	fmt.Fprintf(w, "  passcode:   %s   (a simulator passcode, not a secret)\n", passcode)
	fmt.Fprintf(w, "  data:       %s: %d profiles, %d events\n", source, len(ds.Profiles), len(ds.Events))
	clock := "follows the wall clock"
	if f.clock == "manual" {
		clock = "manual; POST " + base + "/_sim/advance?d=1h moves it"
	}
	fmt.Fprintf(w, "  clock:      %s; deletions take effect after %v\n", clock, f.opts.DeletionDelay)
	fmt.Fprintf(w, "Try:\n  curl -s -H 'X-CleverTap-Account-Id: %s' -H 'X-CleverTap-Passcode: %s' '%s/1/profile.json?%s'\n",
		ds.Account.ID, passcode, base, exampleQuery(ds))
	fmt.Fprintf(w, "Admin (no credentials): GET %s/_sim/stats, POST %s/_sim/advance?d=1h, GET %s/_sim/deletions\n", base, base, base)
	fmt.Fprintln(w, "Press Ctrl-C to stop.")
}

// exampleQuery picks a lookup for the banner's curl line, by identity so no
// email is printed.
func exampleQuery(ds *ctsim.Dataset) string {
	for _, p := range ds.Profiles {
		if p.Identity != "" {
			return "identity=" + p.Identity
		}
	}
	if len(ds.Profiles) > 0 && len(ds.Profiles[0].Devices) > 0 {
		return "objectId=" + ds.Profiles[0].Devices[0].ObjectID
	}
	return "identity=u-000001"
}

// followWallClock advances the sim clock with real time until ctx ends.
func followWallClock(ctx context.Context, sim *ctsim.Server) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			sim.Advance(now.Sub(last))
			last = now
		}
	}
}
