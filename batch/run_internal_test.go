package batch

import (
	"strings"
	"testing"

	"github.com/ctdsr/ctdsr/clevertap"
)

func TestInterleave(t *testing.T) {
	w := func(id string, typ RequestType, st Status) Work {
		return Work{Request: Request{ID: id, Type: typ}, Status: st}
	}
	for _, tc := range []struct {
		name string
		in   []Work
		want string
	}{
		{"empty", nil, ""},
		{"one kind keeps its order", []Work{w("a1", Access, StatusPending), w("a2", Access, StatusPending)}, "a1 a2"},
		{"even", []Work{
			w("a1", Access, StatusPending), w("a2", Access, StatusPending),
			w("d1", Deletion, StatusPending), w("d2", Deletion, StatusPending),
		}, "a1 d1 a2 d2"},
		{"in proportion", []Work{
			w("a1", Access, StatusPending), w("a2", Access, StatusPending), w("a3", Access, StatusPending), w("a4", Access, StatusPending),
			w("d1", Deletion, StatusPending), w("d2", Deletion, StatusPending),
		}, "a1 d1 a2 a3 d2 a4"},
		{"verifications first", []Work{
			w("a1", Access, StatusPending), w("d1", Deletion, StatusPending), w("v1", Deletion, StatusDeleteSubmitted),
		}, "v1 a1 d1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ids []string
			for _, x := range interleave(tc.in) {
				ids = append(ids, x.ID)
			}
			if got := strings.Join(ids, " "); got != tc.want {
				t.Errorf("interleave: got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMergeDateSpans(t *testing.T) {
	got := mergeDateSpans([]dateSpan{{20260110, 20260112}, {20260101, 20260105}, {20260106, 20260107}, {20260111, 20260131}, {20260202, 20260203}})
	want := []dateSpan{{20260101, 20260107}, {20260110, 20260131}, {20260202, 20260203}}
	if len(got) != len(want) {
		t.Fatalf("mergeDateSpans: got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("mergeDateSpans: got %v, want %v", got, want)
		}
	}
	c := &coverage{spans: want}
	for _, tc := range []struct {
		from, to, wantFrom, wantTo clevertap.Date
	}{
		{20260105, 20260109, 20260108, 20260109}, // starts inside a span
		{20260108, 20260111, 20260108, 20260109}, // ends inside one
		{20260105, 20260201, 20260108, 20260201}, // across a span: the hull of the days left
		{20251230, 20260102, 20251230, 20251231},
	} {
		if f, to := c.uncovered(tc.from, tc.to); f != tc.wantFrom || to != tc.wantTo {
			t.Errorf("uncovered(%v, %v) = %v..%v, want %v..%v", tc.from, tc.to, f, to, tc.wantFrom, tc.wantTo)
		}
		if c.covers(tc.from, tc.to) {
			t.Errorf("covers(%v, %v) = true", tc.from, tc.to)
		}
	}
	if !c.covers(20260110, 20260131) || !c.covers(20260102, 20260103) {
		t.Error("covers is false for days inside one span")
	}
}
