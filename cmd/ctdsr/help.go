package main

import "context"

func cmdHelp(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		printUsage(env.Stdout)
		return nil
	}
	return run(ctx, env, []string{args[0], "--help"})
}
