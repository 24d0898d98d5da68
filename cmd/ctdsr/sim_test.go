package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// startSim runs `ctdsr sim args…` until the test ends and returns the base
// URL it printed, and a function that stops it and returns run's error and
// the whole output.
func startSim(t *testing.T, args ...string) (base string, stop func() (error, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	env := &Env{Stdin: strings.NewReader(""), Stdout: pw, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	done := make(chan error, 1)
	go func() {
		err := run(ctx, env, append([]string{"sim"}, args...))
		pw.Close()
		done <- err
	}()
	var (
		mu  sync.Mutex
		out bytes.Buffer
	)
	urls := make(chan string, 1)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			out.WriteString(line + "\n")
			mu.Unlock()
			if u, ok := strings.CutPrefix(line, "CleverTap simulator listening on "); ok {
				urls <- u
			}
		}
		close(urls)
	}()
	stop = func() (error, string) {
		cancel()
		err := <-done
		<-drained
		mu.Lock()
		defer mu.Unlock()
		return err, out.String()
	}
	base, ok := <-urls
	if !ok {
		err, out := stop()
		t.Fatalf("sim printed no URL: %v\n%s", err, out)
	}
	return base, stop
}

func get(t *testing.T, url string, auth bool) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth {
		req.Header.Set("X-CleverTap-Account-Id", ctsim.DemoAccountID)
		req.Header.Set("X-CleverTap-Passcode", ctsim.DemoPasscode)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, body
}

func TestSimServesDemoDataset(t *testing.T) {
	base, stop := startSim(t, "--addr", "127.0.0.1:0", "--clock", "manual")
	status, body := get(t, base+"/1/profile.json?identity=u-1001", true)
	if rec, _ := body["record"].(map[string]any); status != 200 || rec["email"] != "ada.lovelace@example.com" {
		t.Errorf("profile.json: HTTP %d %v", status, body)
	}
	if status, body := get(t, base+"/1/profile.json?identity=u-1001", false); status != 401 || body["error"] != "Account ID is not valid" {
		t.Errorf("without credentials: HTTP %d %v", status, body)
	}
	if status, body := get(t, base+"/_sim/stats", false); status != 200 || body["calls"].(map[string]any)["profile"] != 1.0 {
		t.Errorf("stats: HTTP %d %v", status, body)
	}
	err, out := stop()
	if err != nil {
		t.Errorf("run returned %v after cancel, want nil", err)
	}
	for _, want := range []string{
		"account id: SIM-ACCOUNT", "passcode:   sim-passcode", "built-in demo dataset: 30 profiles",
		"curl -s -H 'X-CleverTap-Account-Id: SIM-ACCOUNT' -H 'X-CleverTap-Passcode: sim-passcode' '" + base + "/1/profile.json?identity=u-1001'",
		"ctdsr sim: stopped",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "@") {
		t.Errorf("output shows an email:\n%s", out)
	}
}

func TestSimGeneratedAndFile(t *testing.T) {
	t.Run("generated", func(t *testing.T) {
		base, stop := startSim(t, "--addr", "127.0.0.1:0", "--profiles", "12", "--seed", "3", "--not-found-mode", "http_404")
		if status, body := get(t, base+"/1/profile.json?identity=u-999999", true); status != 404 || body["error"] != "Profile not found" {
			t.Errorf("not found: HTTP %d %v", status, body)
		}
		if err, out := stop(); err != nil || !strings.Contains(out, "generated (seed 3): 12 profiles") {
			t.Errorf("run: %v\n%s", err, out)
		}
	})
	t.Run("file", func(t *testing.T) {
		ds := ctsim.Generate(ctsim.GenOptions{Seed: 9, Profiles: 3})
		ds.Account.ID, ds.Account.Passcodes = "FILE-ACCOUNT", []string{"file-pass"}
		b, err := json.Marshal(ds)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "ds.json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		base, stop := startSim(t, "--addr", "127.0.0.1:0", "--data", path)
		if status, body := get(t, base+"/1/profile.json?identity=u-000001", true); status != 401 {
			t.Errorf("demo credentials on another account: HTTP %d %v", status, body)
		}
		if err, out := stop(); err != nil || !strings.Contains(out, "account id: FILE-ACCOUNT") {
			t.Errorf("run: %v\n%s", err, out)
		}
	})
}

func TestSimUsageErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.json")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"all interfaces", []string{"--addr", ":0"}, "not a loopback address"},
		{"public address", []string{"--addr", "0.0.0.0:0"}, "not a loopback address"},
		{"host name", []string{"--addr", "example.com:80"}, "not a loopback address"},
		{"bad address", []string{"--addr", "nonsense"}, "--addr"},
		{"bad mode", []string{"--addr", "127.0.0.1:0", "--not-found-mode", "maybe"}, "NotFoundMode"},
		{"bad fault", []string{"--addr", "127.0.0.1:0", "--fault-kinds", "404"}, "fault kind"},
		{"bad limits", []string{"--addr", "127.0.0.1:0", "--limits", "events"}, "--limits"},
		{"bad clock", []string{"--addr", "127.0.0.1:0", "--clock", "sundial"}, "--clock"},
		{"data and profiles", []string{"--addr", "127.0.0.1:0", "--data", missing, "--profiles", "3"}, "not both"},
		{"missing data", []string{"--addr", "127.0.0.1:0", "--data", missing}, "missing.json"},
		{"positional", []string{"extra"}, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			env := &Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &stderr, Getenv: func(string) string { return "" }}
			err := run(t.Context(), env, append([]string{"sim"}, tt.args...))
			var usage *UsageError
			if !errors.As(err, &usage) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want a usage error mentioning %q", err, tt.want)
			}
			if code := exitCode(t.Context(), env, err); code != ExitUsage {
				t.Errorf("exit code %d, want %d", code, ExitUsage)
			}
		})
	}
}

func TestSimHelp(t *testing.T) {
	var stdout bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	if err := run(t.Context(), env, []string{"sim", "--help"}); !errors.Is(err, errHelpShown) {
		t.Fatalf("got %v", err)
	}
	for _, flag := range []string{"-addr", "-allow-remote", "-deletion-delay", "-not-found-mode", "-profile-filter", "-latency", "-fault-rate"} {
		if !strings.Contains(stdout.String(), flag) {
			t.Errorf("help lacks %s", flag)
		}
	}
}
