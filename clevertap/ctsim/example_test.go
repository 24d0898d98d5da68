package ctsim_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// call sends an authenticated request and returns the reply's body.
func call(method, url, body string) string {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("X-CleverTap-Account-Id", ctsim.DemoAccountID)
	req.Header.Set("X-CleverTap-Passcode", ctsim.DemoPasscode)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, b)
}

// A deletion is accepted at once but takes effect only after the deletion
// delay on the sim clock.
func Example() {
	ds, err := ctsim.DemoDataset()
	if err != nil {
		log.Fatal(err)
	}
	sim, err := ctsim.New(ds, ctsim.Options{DeletionDelay: 2 * time.Hour})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()

	fmt.Println(call("POST", srv.URL+"/1/delete/profiles.json", `{"identity":["u-1002"]}`))
	fmt.Println(len(sim.Lookup("alan.turing@example.com", "")), "profile before the delay")
	sim.Advance(2 * time.Hour)
	fmt.Println(call("GET", srv.URL+"/1/profile.json?email=alan.turing%40example.com", ""))
	fmt.Println(call("GET", srv.URL+"/1/events.json?cursor=made-up", ""))
	// Output:
	// 200 {"status":"success"}
	// 1 profile before the delay
	// 200 {"status":"success","record":null}
	// 200 {"status":"fail","error":"Invalid cursor","code":400}
}

func ExampleGenerate() {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 7, Profiles: 40, SharedEmailEvery: 10})
	fmt.Println(len(ds.Profiles), "profiles; the 10th shares its email with the 9th:",
		ds.Profiles[9].Email == ds.Profiles[8].Email)
	// Output: 40 profiles; the 10th shares its email with the 9th: true
}
