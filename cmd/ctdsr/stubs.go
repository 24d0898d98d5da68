package main

import "context"

// Subcommands filled in by later work. Each says so and exits 2 rather than
// pretending to work.

func cmdStatus(ctx context.Context, env *Env, args []string) error { return notImplemented("status") }
