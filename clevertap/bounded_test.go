package clevertap

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// filler is an endless run of 'x', read without allocating.
type filler struct{}

func (filler) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// hugeBody streams prefix, n filler bytes and suffix without holding them.
func hugeBody(prefix string, n int64, suffix string) io.Reader {
	return io.MultiReader(strings.NewReader(prefix), io.LimitReader(filler{}, n), strings.NewReader(suffix))
}

// streaming answers every request with a body made by body(), copied to
// the connection in small chunks.
func streaming(body func(r *http.Request) io.Reader) *recorder {
	return &recorder{fn: func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = io.CopyBuffer(w, body(r), make([]byte, 32<<10))
	}}
}

// allocatedDuring reports how many bytes were allocated on the heap while f
// ran: an upper bound of the heap growth f caused.
func allocatedDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestProfileOverItsCap(t *testing.T) {
	secret := "do-not-repeat-" + strings.Repeat("y", 20)
	rec := reply(200, `{"status":"success","record":{"email":"a@example.com","profileData":{"pad":"`+secret+strings.Repeat("z", 8<<10)+`"}}}`)
	c := setup(t, rec, WithMaxProfileBytes(4<<10))
	_, err := c.Profile(t.Context(), ByIdentity, "u-1")
	var api *APIError
	if !errors.Is(err, ErrTooLarge) || !errors.As(err, &api) {
		t.Fatalf("Profile = %v, want ErrTooLarge", err)
	}
	if !strings.Contains(err.Error(), "GET /1/profile.json") || !strings.Contains(err.Error(), "4096 bytes") ||
		strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "a@example.com") {
		t.Errorf("error %q should name the call and the cap, and nothing of the data", err)
	}
	if n := len(rec.requests()); n != 1 {
		t.Errorf("%d requests, want 1 (an answer over the cap is not retried)", n)
	}
	// The same answer passes under a higher cap.
	c = setup(t, rec, WithMaxProfileBytes(16<<10))
	if _, err := c.Profile(t.Context(), ByIdentity, "u-1"); err != nil {
		t.Fatalf("Profile under a 16 KiB cap: %v", err)
	}
}

// A 50 MB profile answer is refused after the cap is read: the process does
// not hold the body (an unbounded read took over 1 GB for such an answer).
func TestHugeProfileAnswerStaysSmallInMemory(t *testing.T) {
	const size = 50 << 20
	c := setup(t, streaming(func(*http.Request) io.Reader {
		return hugeBody(`{"status":"success","record":{"profileData":{"pad":"`, size, `"}}}`)
	}))
	var err error
	alloc := allocatedDuring(func() { _, err = c.Profile(t.Context(), ByIdentity, "u-1") })
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Profile = %v, want ErrTooLarge", err)
	}
	// The 8 MiB cap, a buffer growing up to it, and HTTP; nowhere near 50 MB.
	t.Logf("allocated %.1f MiB while refusing a 50 MB profile answer", float64(alloc)/(1<<20))
	if limit := uint64(40 << 20); alloc > limit {
		t.Errorf("allocated %d MiB during a refused 50 MB answer, want under %d MiB", alloc>>20, limit>>20)
	}
}

// pageWith answers step 1 with a cursor and the page with body(): the
// events tests' way to serve one page.
func pageWith(body func() io.Reader) *recorder {
	return &recorder{fn: func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.Method == http.MethodPost {
			write(w, 200, `{"status":"success","cursor":"c1"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = io.CopyBuffer(w, body(), make([]byte, 32<<10))
	}}
}

func eventRecordJSON(i int) string {
	return fmt.Sprintf(`{"profile":{"objectId":"__%04d","email":"p%d@example.com"},"ts":20260101000000,"event_props":{"n":%d}}`, i, i, i)
}

func TestEventPageCaps(t *testing.T) {
	var small []string
	for i := range 50 {
		small = append(small, eventRecordJSON(i))
	}
	smallPage := `{"status":"success","records":[` + strings.Join(small, ",") + `]}`
	bigRecord := `{"profile":{"objectId":"__big","profileData":{"pad":"` + strings.Repeat("p", 8<<10) + `"}},"ts":20260101000000}`
	tests := []struct {
		name         string
		body         string
		record, page int64
		want         error
		wantMsg      string
	}{
		{"under both caps", smallPage, 1 << 10, 64 << 10, nil, ""},
		{"page over its cap", smallPage, 1 << 10, 4 << 10, ErrTooLarge, "page larger than 4096 bytes"},
		{"one record over its cap", `{"status":"success","records":[` + small[0] + `,` + bigRecord + `]}`, 1 << 10, 1 << 20, ErrTooLarge, "one record (or value) larger than 1024 bytes"},
		{"an unknown key over the record cap", `{"status":"success","junk":"` + strings.Repeat("j", 8<<10) + `","records":[]}`, 1 << 10, 1 << 20, ErrTooLarge, "one record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := pageWith(func() io.Reader { return strings.NewReader(tt.body) })
			c := setup(t, rec, WithMaxEventBytes(tt.record, tt.page))
			recs, _, err := collect(t.Context(), c, EventQuery{EventName: "Charged", From: 20260101, To: 20260101})
			if tt.want == nil {
				if err != nil || len(recs) != 50 {
					t.Fatalf("%d records, err %v; want 50 and no error", len(recs), err)
				}
				return
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.wantMsg) || !strings.Contains(err.Error(), "GET /1/events.json") {
				t.Fatalf("err = %v, want %v naming the call and saying %q", err, tt.want, tt.wantMsg)
			}
			if strings.Contains(err.Error(), "example.com") || strings.Contains(err.Error(), "ppp") {
				t.Errorf("error %q repeats data", err)
			}
			if n := len(rec.requests()); n != 2 {
				t.Errorf("%d requests, want 2 (over the cap is not retried)", n)
			}
		})
	}
}

// A page of one 50 MB record is refused once the record cap is read; the
// stream is never held whole.
func TestHugeEventRecordStaysSmallInMemory(t *testing.T) {
	c := setup(t, pageWith(func() io.Reader {
		return hugeBody(`{"status":"success","records":[{"profile":{"objectId":"__a","profileData":{"pad":"`, 50<<20, `"}},"ts":20260101000000}]}`)
	}))
	var err error
	alloc := allocatedDuring(func() {
		_, _, err = collect(t.Context(), c, EventQuery{EventName: "Charged", From: 20260101, To: 20260101})
	})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "one record") {
		t.Fatalf("err = %v, want ErrTooLarge for the record", err)
	}
	t.Logf("allocated %.1f MiB while refusing a page with a 50 MB record", float64(alloc)/(1<<20))
	if limit := uint64(16 << 20); alloc > limit {
		t.Errorf("allocated %d MiB during a refused 50 MB record, want under %d MiB", alloc>>20, limit>>20)
	}
}

// Pages are read as a stream in whatever order their keys come.
func TestEventPageStreamShapes(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantRecs int
		wantNext string
		want     error
	}{
		{"status last", `{"next_cursor":"n%2F1","records":[` + eventRecordJSON(1) + `,` + eventRecordJSON(2) + `],"status":"success"}`, 2, "n%2F1", nil},
		{"records null", `{"status":"success","records":null,"next_cursor":null}`, 0, "", nil},
		{"unknown keys of every type", `{"status":"success","x":{"a":[1,{"b":null}]},"y":[],"z":1.5,"previous_cursor":"p/1","records":[` + eventRecordJSON(1) + `]}`, 1, "", nil},
		{"code as a string on a fail page", `{"status":"fail","code":"2","error":"Request still in progress, please retry later","records":[` + eventRecordJSON(1) + `]}`, 0, "", ErrNotReady},
		{"a record that is not an object", `{"status":"success","records":[` + eventRecordJSON(1) + `,7]}`, 0, "", ErrServer},
		{"records not an array", `{"status":"success","records":{"a":1}}`, 0, "", ErrServer},
		{"next_cursor not a string", `{"status":"success","next_cursor":12,"records":[]}`, 0, "", ErrServer},
		{"JSON that ends early", `{"status":"success","records":[` + eventRecordJSON(1), 0, "", ErrServer},
		{"bad ts after a good record", `{"status":"success","records":[` + eventRecordJSON(1) + `,{"ts":20261399000000}]}`, 0, "", ErrServer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := setup(t, &recorder{fn: func(w http.ResponseWriter, r *http.Request, n int) {
				if r.Method == http.MethodPost {
					write(w, 200, `{"status":"success","cursor":"c1"}`)
					return
				}
				if n > 2 && tt.want == ErrNotReady { // ready on the retry
					write(w, 200, `{"status":"success","records":[`+eventRecordJSON(9)+`]}`)
					return
				}
				write(w, 200, tt.body)
			}})
			recs, next, err := c.eventsPage(t.Context(), "c1")
			if tt.want == ErrNotReady {
				if err != nil || len(recs) != 1 || recs[0].ObjectID != "__0009" {
					t.Fatalf("got %+v, %v; want the one record of the page after the retry", recs, err)
				}
				return
			}
			if !errors.Is(err, tt.want) && !(tt.want == nil && err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if len(recs) != tt.wantRecs || next != tt.wantNext {
				t.Errorf("%d records, next %q; want %d and %q", len(recs), next, tt.wantRecs, tt.wantNext)
			}
		})
	}
}

func TestSimHugeProfile(t *testing.T) {
	opts := ctsim.Options{PadProfileBytes: 9 << 20}
	sim, ds, c := simSetup(t, opts)
	p := subject(t, sim, ds)
	if _, err := c.Profile(t.Context(), ByIdentity, p.Identity); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Profile of a 9 MiB record = %v, want ErrTooLarge under the default 8 MiB cap", err)
	}
	_, _, c = simSetup(t, opts, WithMaxProfileBytes(16<<20))
	got, err := c.Profile(t.Context(), ByIdentity, p.Identity)
	if err != nil || got.Identity != p.Identity || len(got.ProfileData) < 9<<20 {
		t.Fatalf("Profile under a 16 MiB cap = %v, %v", got, err)
	}
}
