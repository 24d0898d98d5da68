package clevertap

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// A server that has never answered in JSON is not CleverTap: its HTML is a
// configuration error, not retried. Once the server has answered in JSON, a
// proxy's HTML error page is a retryable server error.
func TestNonJSONBeforeAndAfterTheFirstJSONAnswer(t *testing.T) {
	const page = `<html><body>502 Bad Gateway</body></html>`
	htmlFirst := &recorder{fn: func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte(page))
	}}
	c := setup(t, htmlFirst)
	_, err := c.Profile(t.Context(), ByIdentity, "u-1")
	var api *APIError
	if !errors.Is(err, ErrConfig) || !errors.As(err, &api) || api.HTTPStatus != http.StatusBadGateway {
		t.Fatalf("first answer HTML: %v, want ErrConfig", err)
	}
	if n := len(htmlFirst.requests()); n != 1 {
		t.Errorf("%d requests, want 1 (a configuration error is not retried)", n)
	}
	if want := "answer is not JSON (text/html) and this server has never answered in JSON"; !strings.Contains(api.Message, want) {
		t.Errorf("message %q does not say %q", api.Message, want)
	}

	jsonFirst := &recorder{fn: func(w http.ResponseWriter, _ *http.Request, n int) {
		switch n {
		case 1, 4:
			write(w, 200, paddedProfile)
		default:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte(page))
		}
	}}
	c = setup(t, jsonFirst)
	for i := range 2 {
		if _, err := c.Profile(t.Context(), ByIdentity, "u-1"); err != nil {
			t.Fatalf("lookup %d: %v", i+1, err)
		}
	}
	if n := len(jsonFirst.requests()); n != 4 {
		t.Errorf("%d requests, want 4 (the two proxy pages were retried)", n)
	}
}
