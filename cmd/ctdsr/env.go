package main

import (
	"io"
	"path/filepath"
	"strings"
)

// Env is everything a subcommand may touch of the outside world, so tests can
// drive run with buffers and a fake environment.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// Self is how the user runs this binary again, for hints such as the
	// demo's closing line; empty means "ctdsr".
	Self string
}

// self is Self, or "ctdsr".
func (e *Env) self() string {
	if e.Self == "" {
		return "ctdsr"
	}
	return e.Self
}

// selfCommand is how to run this binary again, given os.Args[0]: the path
// it was started as (bin/ctdsr after `make build`, or a name found on the
// PATH), except a binary `go run` built in a temporary directory that is
// removed when it exits, which is run again with `go run ./cmd/ctdsr`.
func selfCommand(arg0 string) string {
	switch {
	case arg0 == "":
		return "ctdsr"
	case strings.Contains(filepath.ToSlash(arg0), "/go-build"):
		return "go run ./cmd/ctdsr"
	}
	return arg0
}
