package main

import (
	"context"
	"errors"
	"io/fs"

	"github.com/ctdsr/ctdsr/checkpoint"
)

// openExisting opens a ledger that must already exist, for the commands
// that only read or adjust one (status, report, verify-reports, reopen,
// purge). A missing ledger is a usage error of command cmd.
func openExisting(ctx context.Context, path, cmd string) (*checkpoint.Store, error) {
	if path == "" {
		return nil, usageErrorf(cmd, "--state is required")
	}
	st, err := checkpoint.Open(ctx, path, checkpoint.Options{MustExist: true})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, usageErrorf(cmd, "no ledger at %s", path)
	}
	return st, err
}
