package main

import (
	"context"
	"fmt"
)

func cmdVersion(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "version", "")
	if err := parseFlags(fs, "version", args); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "ctdsr %s\n", version)
	return nil
}
