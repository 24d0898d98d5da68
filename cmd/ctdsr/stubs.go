package main

import "context"

// Subcommands filled in by later work. Each says so and exits 2 rather than
// pretending to work.

func cmdRun(ctx context.Context, env *Env, args []string) error { return notImplemented("run") }
func cmdValidate(ctx context.Context, env *Env, args []string) error {
	return notImplemented("validate")
}
func cmdStatus(ctx context.Context, env *Env, args []string) error { return notImplemented("status") }
func cmdSim(ctx context.Context, env *Env, args []string) error    { return notImplemented("sim") }
func cmdDemo(ctx context.Context, env *Env, args []string) error   { return notImplemented("demo") }
