package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/ctdsr/ctdsr/clevertap"
	"golang.org/x/time/rate"
)

// apiFlags are the flags of every subcommand that calls CleverTap.
type apiFlags struct {
	region       string
	baseURL      string
	passcodeFile string
	quota        clevertap.Quota // bound to the --quota-* flags, from clevertap.DefaultQuota
	// Bounds on stalls and answers.
	requestTimeout, pageTimeout time.Duration
	maxProfileMB                int64
}

func (a *apiFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.region, "region", "eu1", "CleverTap region: eu1, in1, us1, sg1, aps3, mec1 or sk1")
	fs.StringVar(&a.baseURL, "base-url", "", "CleverTap API origin instead of --region, e.g. https://eu1.api.clevertap.com (no path; http:// only for loopback)")
	fs.StringVar(&a.passcodeFile, "passcode-file", "", "read the passcode from this file instead of $CLEVERTAP_PASSCODE")
	a.quota = clevertap.DefaultQuota()
	fs.IntVar(&a.quota.Concurrency, "quota-concurrency", a.quota.Concurrency, "CleverTap's in-flight limit per API group (C)")
	fs.Float64Var(&a.quota.Share, "quota-share", a.quota.Share, "share of the limit this run may use: K = max(1, floor(C × share)) per group, 0 < share ≤ 1")
	fs.Float64Var(&a.quota.RPS, "quota-rps", a.quota.RPS, "optional request-rate quota R; the run uses R × share per second (0 = off)")
	a.requestTimeout, a.pageTimeout = clevertap.DefaultRequestTimeout, clevertap.DefaultPageTimeout
	durationVar(fs, &a.requestTimeout, "request-timeout", "give up one attempt of a lookup, delete or export start after this long (it is retried)")
	durationVar(fs, &a.pageTimeout, "page-timeout", "give up one attempt at an event page after this long (pages of 5000 records take longer than lookups)")
	a.maxProfileMB = clevertap.DefaultMaxProfileBytes >> 20
	fs.Int64Var(&a.maxProfileMB, "max-profile-mb", a.maxProfileMB, "refuse a profile answer larger than this many MiB (raise it for very large profiles)")
}

// client builds the CleverTap client from flags and environment, for an
// account in timezone loc. Mistakes in either are usage errors.
func (a *apiFlags) client(cmd string, env *Env, loc *time.Location, log *slog.Logger) (*clevertap.Client, error) {
	account := strings.TrimSpace(env.Getenv("CLEVERTAP_ACCOUNT_ID"))
	if account == "" {
		return nil, usageErrorf(cmd, "CLEVERTAP_ACCOUNT_ID is not set")
	}
	pass, err := a.passcode(env)
	if err != nil {
		return nil, usageErrorf(cmd, "%w", err)
	}
	quota := a.quota
	if err := quota.Validate(); err != nil {
		return nil, usageErrorf(cmd, "--quota-concurrency, --quota-share, --quota-rps: %w", err)
	}
	opts := []clevertap.Option{
		clevertap.WithCredentials(account, pass),
		clevertap.WithQuota(quota),
		clevertap.WithTimezone(loc),
		clevertap.WithLogger(log),
		clevertap.WithRequestTimeout(a.requestTimeout),
		clevertap.WithPageTimeout(a.pageTimeout),
		clevertap.WithMaxProfileBytes(a.maxProfileMB << 20),
	}
	if a.baseURL != "" {
		opts = append(opts, clevertap.WithBaseURL(a.baseURL))
	} else {
		r, err := clevertap.ParseRegion(a.region)
		if err != nil {
			return nil, usageErrorf(cmd, "--region: %w", err)
		}
		opts = append(opts, clevertap.WithRegion(r))
	}
	if perSecond := quota.PerSecond(); perSecond > 0 {
		opts = append(opts, clevertap.WithRateLimiter(rate.NewLimiter(rate.Limit(perSecond), 1)))
	}
	c, err := clevertap.NewClient(opts...)
	if err != nil {
		return nil, usageErrorf(cmd, "%w", err)
	}
	return c, nil
}

// passcode reads the passcode from --passcode-file or $CLEVERTAP_PASSCODE.
// The error never contains the passcode.
func (a *apiFlags) passcode(env *Env) (clevertap.Passcode, error) {
	if a.passcodeFile != "" {
		b, err := os.ReadFile(a.passcodeFile)
		if err != nil {
			return "", fmt.Errorf("--passcode-file: %w", err)
		}
		p := strings.TrimSpace(string(b))
		if p == "" {
			return "", errors.New("--passcode-file is empty")
		}
		return clevertap.Passcode(p), nil
	}
	p := strings.TrimSpace(env.Getenv("CLEVERTAP_PASSCODE"))
	if p == "" {
		return "", errors.New("CLEVERTAP_PASSCODE is not set (or use --passcode-file)")
	}
	return clevertap.Passcode(p), nil
}

// logFlags choose the one logger of a command.
type logFlags struct {
	format string
	level  string
}

// register adds --log-format and --log-level, the latter defaulting to level.
func (l *logFlags) register(fs *flag.FlagSet, level string) {
	fs.StringVar(&l.format, "log-format", "text", "log format: text or json")
	fs.StringVar(&l.level, "log-level", level, "log level: debug, info, warn or error")
}

// logger builds the logger, writing to stderr.
func (l *logFlags) logger(cmd string, env *Env) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.level)); err != nil {
		return nil, usageErrorf(cmd, "--log-level %q: want debug, info, warn or error", l.level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch l.format {
	case "text":
		return slog.New(slog.NewTextHandler(env.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(env.Stderr, opts)), nil
	}
	return nil, usageErrorf(cmd, "--log-format %q: want text or json", l.format)
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
