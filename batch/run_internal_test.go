package batch

import (
	"context"
	"strings"
	"testing"

	"github.com/ctdsr/ctdsr/clevertap"
)

// TestWorkStreams: the run reads a stream of pages per request type and
// takes from the one further behind its share of the run, so deletions
// loaded after every access request are worked from the start; each
// stream keeps the ledger's order, the counts only steer, and the pages of
// access requests after the first wait for beforePage.
func TestWorkStreams(t *testing.T) {
	ledger := func(spec string) []Work {
		var out []Work
		for i, id := range strings.Fields(spec) {
			typ := Access
			if id[0] == 'd' {
				typ = Deletion
			}
			out = append(out, Work{Request: Request{ID: id, Type: typ}, Seq: int64(i + 1)})
		}
		return out
	}
	for _, tc := range []struct {
		name       string
		ledger     string
		nAcc, nDel int // the counts the streams are given
		page       int
		want       string
	}{
		{"empty", "", 0, 0, 2, ""},
		{"one kind keeps its order", "a1 a2 a3", 3, 0, 2, "a1 a2 a3"},
		{"even, one manifest per type", "a1 a2 a3 d1 d2 d3", 3, 3, 2, "a1 d1 a2 d2 a3 d3"},
		{"in proportion, across pages", "a1 a2 a3 a4 a5 a6 d1 d2 d3", 6, 3, 2, "a1 d1 a2 a3 d2 a4 a5 d3 a6"},
		{"deletions loaded first", "d1 d2 d3 d4 a1 a2", 2, 4, 1, "a1 d1 d2 a2 d3 d4"},
		{"counts that are off only steer", "a1 a2 d1 d2 d3", 2, 0, 2, "a1 d1 a2 d2 d3"},
		{"the ledger's order within a type", "d2 a9 d1 a3", 2, 2, 10, "a9 d2 a3 d1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all := ledger(tc.ledger)
			var reads []string
			read := func(_ context.Context, kind RequestType, after WorkCursor, limit int) ([]Work, WorkCursor, error) {
				reads = append(reads, string(kind))
				var page []Work
				for _, w := range all {
					if w.Type == kind && after.Before(w) && len(page) < limit {
						page = append(page, w)
					}
				}
				if len(page) == 0 {
					return nil, after, nil
				}
				return page, CursorOf(page[len(page)-1]), nil
			}
			var before int
			acc := &workStream{read: read, kind: Access, total: tc.nAcc, page: tc.page,
				beforePage: func(context.Context) error { before++; return nil }}
			del := &workStream{read: read, kind: Deletion, total: tc.nDel, page: tc.page}
			var got []string
			for {
				w, ok, err := nextWork(t.Context(), acc, del)
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				got = append(got, w.ID)
			}
			if s := strings.Join(got, " "); s != tc.want {
				t.Errorf("work taken in the order %q, want %q", s, tc.want)
			}
			if !acc.ended() || !del.ended() {
				t.Errorf("streams not ended after the last request")
			}
			if before != acc.reads-1 {
				t.Errorf("beforePage ran %d times for %d pages of access requests; want before every page but the first", before, acc.reads)
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
