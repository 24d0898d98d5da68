package main

import (
	"io"
)

// Env is everything a subcommand may touch of the outside world, so tests can
// drive run with buffers and a fake environment.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}
