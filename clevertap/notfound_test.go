package clevertap

import (
	"errors"
	"net/http"
	"testing"

	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

func TestSaysNotFound(t *testing.T) {
	tests := []struct {
		msg  string
		want bool
	}{
		{"Profile not found", true},
		{"PROFILE NOT FOUND", true},
		{"profile  not\tfound", true},
		{"User not found", true},
		{"Record not found for this identity", true},
		{"identity not found", true},
		{"No profile found", true},
		{"no profiles match", true},
		{"No such user", true},
		{"no such profile", true},
		{"No record", true},
		{"No matching profile", true},
		{"Profile does not exist", true},
		{"user doesn't exist", true},
		{"Not found", false}, // what a router says for an unknown path
		{"Not Found", false},
		{"404 page not found", false},
		{"Path does not exist", false},
		{"Invalid Credentials", false},
		{"Rate plan does not allow lookups", false},
		{"found", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := saysNotFound(tt.msg); got != tt.want {
			t.Errorf("saysNotFound(%q) = %v, want %v", tt.msg, got, tt.want)
		}
	}
}

// Every not-found shape the simulator can give is ErrNotFound; every other
// refusal of a lookup is an error that never reads as "not found".
func TestSimLookupRefusalsAreNotNotFound(t *testing.T) {
	tests := []struct {
		name string
		opts ctsim.Options
		want error
	}{
		{"fail 200, default text", ctsim.Options{NotFoundMode: "fail_200"}, ErrNotFound},
		{"http 404, custom not-found text", ctsim.Options{NotFoundMode: "http_404", NotFoundText: "No such user"}, ErrNotFound},
		{"fail 200, text that is not evidence", ctsim.Options{NotFoundMode: "fail_200", NotFoundText: "Not found"}, ErrInvalidRequest},
		{"400 with any text", ctsim.Options{LookupFailText: "Something went wrong", LookupFailStatus: http.StatusBadRequest}, ErrInvalidRequest},
		{"200 with any text", ctsim.Options{LookupFailText: "Lookups are disabled for this account"}, ErrInvalidRequest},
		{"404 with a router's text", ctsim.Options{LookupFailText: "Not found", LookupFailStatus: http.StatusNotFound}, ErrInvalidRequest},
		{"404 with a not-found text", ctsim.Options{LookupFailText: "Profile does not exist", LookupFailStatus: http.StatusNotFound}, ErrNotFound},
		{"503 with a not-found text", ctsim.Options{LookupFailText: "Profile not found", LookupFailStatus: http.StatusServiceUnavailable}, ErrServer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, c := simSetup(t, tt.opts)
			_, err := c.Profile(t.Context(), ByEmail, "nobody@example.invalid")
			if got := matching(err); len(got) != 1 || got[0] != tt.want {
				t.Fatalf("Profile = %v, matches %v; want exactly [%v]", err, got, tt.want)
			}
			if tt.want != ErrNotFound && errors.Is(err, ErrNotFound) {
				t.Fatalf("a refusal read as not found: %v", err)
			}
		})
	}
}
