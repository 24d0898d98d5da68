package main

import (
	"strings"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
)

func TestProgressLine(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		total, finished, pending int64
		calls                    int64
		elapsed                  time.Duration
		want                     []string
		notWant                  []string
	}{
		{"start", 2000, 0, 0, 0, 0, []string{"[                        ] 0/2000 rows", "0.0 calls/s", "ETA --"}, []string{"awaiting"}},
		{"a quarter", 2000, 500, 0, 1200, 60 * time.Second, []string{"[######                  ] 500/2000 rows", "20.0 calls/s", "ETA 3m0s"}, nil},
		{"waiting for verification", 10, 7, 3, 40, 10 * time.Second, []string{"7/10 rows", "3 awaiting verification"}, nil},
		{"done", 10, 10, 0, 40, 10 * time.Second, []string{"[########################] 10/10 rows", "ETA --"}, nil},
		{"more finished than counted at start", 10, 12, 0, 40, 10 * time.Second, []string{"[########################] 12/10 rows"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &batch.Progress{}
			p.Total.Store(tc.total)
			p.Finished.Store(tc.finished)
			p.Pending.Store(tc.pending)
			got := progressLine(p, tc.calls, tc.elapsed)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("progressLine = %q; want it to contain %q", got, w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(got, w) {
					t.Errorf("progressLine = %q; want no %q", got, w)
				}
			}
			if strings.Contains(got, "\n") {
				t.Errorf("progressLine = %q; want one line", got)
			}
		})
	}
}
