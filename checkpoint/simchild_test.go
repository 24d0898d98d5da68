//go:build unix

package checkpoint

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// The export benchmarks serve the simulator from a child process (the test
// binary run again with simEnv set, see TestMain): a simulator holding a
// million events takes far more memory than the run exporting them, and
// in the same process it would be all the peak RSS showed.
const (
	simEnv       = "CTDSR_CHECKPOINT_SIM" // "EVENTS FILTER": serve a bulk subject
	bulkEmail    = "bulk.subject@example.com"
	bulkIdentity = "u-bulk"
	bulkEvent    = "App Launched"
	smallEmail   = "small.subject@example.com" // a subject with a few events
	bulkDays     = 30                          // the bulk subject's events span this many days
)

// bulkDataset is one account with a subject holding n events of bulkEvent,
// evenly spread over the bulkDays before ctsim.DefaultNow, a small subject
// and a few other users whose records an unfiltered export returns too.
func bulkDataset(n int) *ctsim.Dataset {
	ds := &ctsim.Dataset{Account: ctsim.Account{ID: ctsim.DemoAccountID, Passcodes: []string{ctsim.DemoPasscode}, Timezone: "UTC"}}
	start := ctsim.DefaultNow.Add(-bulkDays * 24 * time.Hour)
	profile := func(identity, email, objectID string) {
		ds.Profiles = append(ds.Profiles, ctsim.Profile{Identity: identity, Email: email, Name: "Bulk Test",
			Devices: []ctsim.Device{{ObjectID: objectID, Platform: "Android"}}, CreatedAt: start.Add(-time.Hour)})
	}
	profile(bulkIdentity, bulkEmail, "__bulk0000000000000000000000000001")
	profile("u-small", smallEmail, "__small000000000000000000000000001")
	for i := range 5 {
		profile(fmt.Sprintf("u-other%d", i), fmt.Sprintf("other%d@example.com", i), fmt.Sprintf("__other%027d", i))
	}
	step := bulkDays * 24 * time.Hour / time.Duration(n)
	other := 0
	for i := range n {
		at := start.Add(time.Duration(i) * step).Truncate(time.Second)
		ds.Events = append(ds.Events, ctsim.Event{ObjectID: ds.Profiles[0].Devices[0].ObjectID, Name: bulkEvent, Time: at,
			EventProps:   map[string]any{"Screen": "home", "Build": "5.2.1", "n": i},
			SessionProps: map[string]any{"session_source": "Direct"}})
		if i%1000 == 0 { // a record of someone else now and then
			p := ds.Profiles[2+other%5]
			other++
			ds.Events = append(ds.Events, ctsim.Event{ObjectID: p.Devices[0].ObjectID, Name: bulkEvent, Time: at,
				EventProps: map[string]any{"Screen": "cart"}})
		}
	}
	for i := range 3 {
		ds.Events = append(ds.Events, ctsim.Event{ObjectID: ds.Profiles[1].Devices[0].ObjectID, Name: bulkEvent,
			Time: start.Add(time.Duration(i+1) * 24 * time.Hour), EventProps: map[string]any{"Screen": "small"}})
	}
	return ds
}

// serveSim is the child: it serves a simulator of bulkDataset(events) with
// the profile filter mode filter on a loopback port, prints the base URL,
// and serves until its standard input closes.
func serveSim(spec string) error {
	events, filter, ok := strings.Cut(spec, " ")
	n, err := strconv.Atoi(events)
	if !ok || err != nil {
		return fmt.Errorf("bad %s %q", simEnv, spec)
	}
	sim, err := ctsim.New(bulkDataset(n), ctsim.Options{ProfileFilter: filter})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go http.Serve(ln, sim)
	fmt.Println("http://" + ln.Addr().String())
	_, _ = bufio.NewReader(os.Stdin).ReadString(0) // until the parent closes it or exits
	return nil
}

// startSim starts a simulator child serving events bulk events with the
// profile filter mode filter, and returns its base URL. The child ends
// with the benchmark.
func startSim(tb testing.TB, events int, filter string) string {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d %s", simEnv, events, filter))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			tb.Errorf("simulator child: %v", err)
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		tb.Fatalf("simulator child did not start: %v", err)
	}
	return strings.TrimSpace(line)
}
