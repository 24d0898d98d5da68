package clevertap

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// FuzzCheckResponse: any answer is either success or an *APIError of
// exactly one class, and never a panic.
func FuzzCheckResponse(f *testing.F) {
	for _, s := range []string{
		`{"status":"success","record":null}`, paddedProfile,
		`{ "status" : "fail" , "error" : "Account ID is not valid" , "code" : 401 }`,
		`{"status":"fail","error":"[\"Invalid event : X\"]","code":"400"}`,
		`{"status":"success","next_cursor":"a%2F","records":[{"profile":{"objectId":1},"ts":"20260101000000"}]}`,
		`<html>`, ``, `null`, `[]`,
	} {
		f.Add(200, s, uint8(0))
		f.Add(404, s, uint8(1))
		f.Add(302, s, uint8(16))
		f.Add(202, s, uint8(8))
	}
	f.Fuzz(func(t *testing.T, status int, body string, flags uint8) {
		if status < 100 || status > 599 {
			return
		}
		cl := &call{op: "fuzz", miss: flags&1 != 0, filter: flags&2 != 0, cursor: flags&4 != 0, pending: flags&8 != 0,
			limit: 1 << 20}
		var sawJSON atomic.Bool
		sawJSON.Store(flags&16 != 0)
		var prof profileResponse
		page := newPageResponse(time.UTC, 1<<10, 1<<20)
		for _, out := range []enveloped{&prof, page, nil} {
			err := checkResponse(cl, answer(status, body), out, &sawJSON)
			if err == nil {
				if status < 200 || status >= 300 {
					t.Fatalf("HTTP %d accepted", status)
				}
				continue
			}
			var api *APIError
			if !errors.As(err, &api) || len(matching(err)) != 1 {
				t.Fatalf("HTTP %d %q: %v matches %v", status, body, err, matching(err))
			}
		}
	})
}

// FuzzParseTS: a ts either parses to a UTC time that renders back to the
// same digits, or is refused.
func FuzzParseTS(f *testing.F) {
	for _, ts := range []int64{20151023140416, 20260229000000, 20240229235959, 0, -1, 1767225600, 99991231235959} {
		f.Add(ts)
	}
	f.Fuzz(func(t *testing.T, ts int64) {
		got, err := parseTS(ts, time.UTC)
		if err != nil {
			return
		}
		back := int64(got.Year())*1e10 + int64(got.Month())*1e8 + int64(got.Day())*1e6 +
			int64(got.Hour())*1e4 + int64(got.Minute())*1e2 + int64(got.Second())
		if back != ts || got.Location() != time.UTC {
			t.Fatalf("parseTS(%d) = %v, which renders as %d", ts, got, back)
		}
	})
}
