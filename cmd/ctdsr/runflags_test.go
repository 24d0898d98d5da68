package main

import (
	"flag"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
)

// The run's flags bind straight to batch.Config: with no flags the job
// runs on batch.DefaultConfig, and a flag's 0 is 0 (no default slips in
// between the flag and the engine).
func TestRunFlagsBindToTheConfig(t *testing.T) {
	parse := func(args ...string) jobConfig {
		t.Helper()
		c := defaultJobConfig()
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c.register(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatalf("parse %q: %v", args, err)
		}
		return c
	}
	if got := parse().Batch; !reflect.DeepEqual(got, batch.DefaultConfig()) {
		t.Errorf("no flags: %+v\nwant batch.DefaultConfig() %+v", got, batch.DefaultConfig())
	}
	if err := batch.DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig does not validate: %v", err)
	}

	c := parse("--email-lookback-days", "0", "--verify-window", "0", "--resweep-after", "0").Batch
	if c.EmailLookbackDays != 0 || c.VerifyWindow != 0 || c.ResweepAfter != 0 {
		t.Errorf("zeros given: lookback %d, verify window %v, resweep %v; want all 0",
			c.EmailLookbackDays, c.VerifyWindow, c.ResweepAfter)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("zeros that mean none do not validate: %v", err)
	}

	c = parse("--workers", "3", "--verify-first", "2h").Batch
	if c.Workers != 3 || c.VerifyFirst != 2*time.Hour {
		t.Errorf("workers %d, verify first %v; want 3 and 2h", c.Workers, c.VerifyFirst)
	}
	for _, args := range [][]string{{"--workers", "0"}, {"--verify-first", "0"}, {"--email-lookback-days", "-1"}} {
		if err := parse(args...).Batch.Validate(); err == nil {
			t.Errorf("%q validates; want an error", args)
		}
	}
}
