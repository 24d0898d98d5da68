package main

import (
	"context"
	"errors"
	"fmt"
)

// Exit codes, documented in the README ("Exit codes").
const (
	ExitOK          = 0   // everything finished
	ExitFatal       = 1   // the run could not go on (credentials, ledger, I/O)
	ExitUsage       = 2   // bad flags or unreadable input
	ExitRowsFailed  = 3   // finished, but some rows failed or were rejected
	ExitInterrupted = 130 // SIGINT/SIGTERM
)

// UsageError is a mistake in how ctdsr was called, or input it cannot read
// at all. It maps to exit code 2 and carries a hint for the user.
type UsageError struct {
	Err  error
	Hint string // e.g. "see 'ctdsr run --help'"
}

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// usageErrorf builds a UsageError for subcommand cmd.
func usageErrorf(cmd, format string, args ...any) error {
	hint := "see 'ctdsr help'"
	if cmd != "" {
		hint = fmt.Sprintf("see 'ctdsr %s --help'", cmd)
	}
	return &UsageError{Err: fmt.Errorf(format, args...), Hint: hint}
}

// ErrRowsFailed is returned (wrapped) by a subcommand that finished its work
// but left rows failed or rejected. It maps to exit code 3.
var ErrRowsFailed = errors.New("some rows failed or were rejected")

// ErrInterrupted is returned by a subcommand that stopped early on a signal
// after saving its state. It maps to exit code 130.
var ErrInterrupted = errors.New("interrupted")

// errHelpShown means --help was printed; it maps to exit code 0.
var errHelpShown = errors.New("help shown")

// exitCode maps the error of a subcommand to the process exit code and prints
// it as one line on stderr. It is the only place exit codes are decided.
func exitCode(ctx context.Context, env *Env, err error) int {
	var usage *UsageError
	switch {
	case err == nil, errors.Is(err, errHelpShown):
		return ExitOK
	case errors.Is(err, ErrInterrupted), ctx.Err() != nil && errors.Is(err, context.Canceled):
		fmt.Fprintln(env.Stderr, "ctdsr: interrupted; state saved, run again to resume")
		return ExitInterrupted
	case errors.As(err, &usage):
		fmt.Fprintf(env.Stderr, "ctdsr: %v\n", usage.Err)
		if usage.Hint != "" {
			fmt.Fprintf(env.Stderr, "ctdsr: %s\n", usage.Hint)
		}
		return ExitUsage
	case errors.Is(err, ErrRowsFailed), errors.Is(err, ErrNotVerified), errors.Is(err, ErrWorkRemains):
		fmt.Fprintf(env.Stderr, "ctdsr: %v\n", err)
		return ExitRowsFailed
	default:
		fmt.Fprintf(env.Stderr, "ctdsr: %v\n", err)
		return ExitFatal
	}
}
