package main

import (
	"testing"
	"time"
)

func TestDurations(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		out  string
	}{
		{"30d", 30 * day, "30d"},
		{"7d", 7 * day, "7d"},
		{"1d12h", 36 * time.Hour, "1d12h"},
		{"168h", 7 * day, "7d"},
		{"2h", 2 * time.Hour, "2h"},
		{"90m", 90 * time.Minute, "1h30m"},
		{"1m30s", 90 * time.Second, "1m30s"},
		{"15s", 15 * time.Second, "15s"},
		{"500ms", 500 * time.Millisecond, "500ms"},
		{"0", 0, "0s"},
	} {
		got, err := parseDuration(c.in)
		if err != nil || got != c.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
		if s := formatDuration(got); s != c.out {
			t.Errorf("formatDuration(%v) = %q, want %q", got, s, c.out)
		}
	}
	for _, bad := range []string{"d", "-1d", "1.5d", "x", "1dx", "1d-2h", "+3d"} {
		if d, err := parseDuration(bad); err == nil {
			t.Errorf("parseDuration(%q) = %v, want an error", bad, d)
		}
	}
}
