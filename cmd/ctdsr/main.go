// Command ctdsr carries out GDPR/CCPA data-subject access and deletion
// requests against CleverTap, from manifests (CSV, Parquet, Excel), with a
// SQLite checkpoint ledger and Parquet reports.
//
// main is thin: it builds the environment, runs one subcommand under a
// signal-aware context and maps the result to an exit code in one place.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	setMemoryLimit(os.Getenv)
	env := &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Self: selfCommand(os.Args[0])}
	err := run(ctx, env, os.Args[1:])
	stop()
	os.Exit(exitCode(ctx, env, err))
}
