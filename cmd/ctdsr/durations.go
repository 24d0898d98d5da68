package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// day is what "d" means in a duration flag: 24 hours, as people write
// windows and deadlines ("30d", "7d", "1d12h").
const day = 24 * time.Hour

// parseDuration reads a duration as time.ParseDuration does, with whole
// days ("d") in front: "30d", "1d12h", "90m".
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	days, rest, found := strings.Cut(s, "d")
	if !found {
		return time.ParseDuration(s)
	}
	n, err := strconv.Atoi(days)
	if err != nil || n < 0 || strings.ContainsAny(days, "+-") {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	d := time.Duration(n) * day
	if rest == "" {
		return d, nil
	}
	r, err := time.ParseDuration(rest)
	if err != nil || r < 0 {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	return d + r, nil
}

// formatDuration writes d as people write it: "30d", "1d12h", "2h",
// "1m30s", "500ms".
func formatDuration(d time.Duration) string {
	if d <= 0 {
		return d.String()
	}
	var b strings.Builder
	if days := d / day; days > 0 {
		b.WriteString(strconv.FormatInt(int64(days), 10) + "d")
		d -= days * day
	}
	if d == 0 {
		return b.String()
	}
	s := d.String()
	// time.Duration prints "2h0m0s": drop the zero units.
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	b.WriteString(s)
	return b.String()
}

// durationFlag binds a duration flag that accepts days.
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil {
		return "0s"
	}
	return formatDuration(*f.d)
}

func (f durationFlag) Set(v string) error {
	d, err := parseDuration(v)
	if err != nil {
		return err
	}
	*f.d = d
	return nil
}

// durationVar registers a duration flag that accepts days ("30d").
func durationVar(fs *flag.FlagSet, p *time.Duration, name, usage string) {
	fs.Var(durationFlag{p}, name, usage)
}
