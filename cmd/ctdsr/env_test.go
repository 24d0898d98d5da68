package main

import "testing"

func TestSelfCommand(t *testing.T) {
	for arg0, want := range map[string]string{
		"bin/ctdsr":                              "bin/ctdsr",
		"./bin/ctdsr":                            "./bin/ctdsr",
		"ctdsr":                                  "ctdsr", // found on the PATH
		"/usr/local/bin/ctdsr":                   "/usr/local/bin/ctdsr",
		"/tmp/go-build2466391013/b001/exe/ctdsr": "go run ./cmd/ctdsr",
		"":                                       "ctdsr",
	} {
		if got := selfCommand(arg0); got != want {
			t.Errorf("selfCommand(%q) = %q, want %q", arg0, got, want)
		}
	}
}
