package clevertap

import (
	"errors"
	"strings"
	"testing"

	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// A lookup CleverTap refuses because several profiles share the email must
// not read as "not found": a deletion would then report "we held no data".
func TestProfileAmbiguousIsNotNotFound(t *testing.T) {
	sim, ds, c := simSetup(t, ctsim.Options{MultiMatch: "error"})
	var shared string
	for _, p := range ds.Profiles {
		if p.Email != "" && len(sim.Lookup(p.Email, "")) > 1 {
			shared = p.Email
			break
		}
	}
	if shared == "" {
		t.Fatal("generated dataset has no email shared by two profiles")
	}
	_, err := c.Profile(t.Context(), ByEmail, strings.ToUpper(shared))
	if !errors.Is(err, ErrAmbiguous) || errors.Is(err, ErrNotFound) {
		t.Fatalf("Profile(shared email) = %v; want ErrAmbiguous, not ErrNotFound", err)
	}
	if got := c.Stats().Attempts[GroupProfile]; got != 1 {
		t.Errorf("attempts = %d, want 1 (an ambiguous lookup is not retried)", got)
	}
}

func TestClassifyAmbiguousText(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want error
	}{
		{"More than one profile matches", ErrAmbiguous},
		{"multiple profiles found for this email", ErrAmbiguous},
		{"Profile not found", ErrNotFound},
		{"", ErrInvalidRequest}, // a refusal without a reason is no evidence
	} {
		f := facts{status: 200, code: 400, fail: true, json: true, everJSON: true, msg: tc.msg}
		if got := classify(&call{miss: true}, f); got != tc.want {
			t.Errorf("classify(lookup, 200/400 fail %q) = %v, want %v", tc.msg, got, tc.want)
		}
	}
	f := facts{status: 400, code: 400, fail: true, json: true, everJSON: true, msg: "More than one profile matches"}
	if got := classify(&call{}, f); got != ErrInvalidRequest {
		t.Errorf("classify(non-lookup) = %v, want ErrInvalidRequest", got)
	}
}
