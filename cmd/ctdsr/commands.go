package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// command is one subcommand of ctdsr.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

// commands lists every subcommand; help renders from it.
func commands() []command {
	return []command{
		{"run", "carry out the requests in manifests (and resume the ledger)", cmdRun},
		{"validate", "check manifests without calling CleverTap", cmdValidate},
		{"load", "validate manifests and load them into a ledger, no API calls", cmdLoad},
		{"status", "summarise a ledger without calling CleverTap", cmdStatus},
		{"report", "render the reports of a ledger without calling CleverTap", cmdReport},
		{"verify-reports", "check a report directory against its summary.json", cmdVerifyReports},
		{"reopen", "reopen failed or not-found requests for the next run", cmdReopen},
		{"purge", "remove the personal data of long-closed requests from a ledger", cmdPurge},
		{"sim", "serve the built-in CleverTap simulator", cmdSim},
		{"demo", "run a sample manifest end to end against the simulator", cmdDemo},
		{"version", "print the version", cmdVersion},
		{"help", "show help for ctdsr or a subcommand", cmdHelp},
	}
}

// run dispatches args to a subcommand.
func run(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		printUsage(env.Stderr)
		return usageErrorf("", "no subcommand given")
	}
	name := args[0]
	switch name {
	case "-h", "--help", "-help":
		printUsage(env.Stdout)
		return nil
	case "-v", "--version", "-version":
		return cmdVersion(ctx, env, args[1:])
	}
	var names []string
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, env, args[1:])
		}
		names = append(names, c.name)
	}
	return usageErrorf("", "unknown subcommand %q%s", name, didYouMean(name, names, ""))
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "ctdsr carries out data-subject access and deletion requests against CleverTap.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: ctdsr <subcommand> [flags]")
	fmt.Fprintln(w)
	cs := commands()
	for _, c := range cs {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'ctdsr <subcommand> --help' for its flags. Exit codes: 0 ok, 1 fatal,")
	fmt.Fprintln(w, "2 usage or unreadable input, 3 rows failed or rejected, 130 interrupted.")
}

// newFlagSet returns a FlagSet for subcommand name whose --help prints a
// synopsis and the flags to stdout. A mistake prints nothing here: parseFlags
// turns it into one line and a hint on stderr.
func newFlagSet(env *Env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("ctdsr "+name, flag.ContinueOnError)
	out := &helpText{stdout: env.Stdout}
	fs.SetOutput(out)
	// The flag package calls Usage for --help and for mistakes alike; the
	// text waits in out, and parseFlags prints it only for --help.
	fs.Usage = func() {
		out.Reset()
		fmt.Fprintf(out, "Usage: ctdsr %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// helpText is a flag set's output: held back until --help asks for it.
type helpText struct {
	bytes.Buffer
	stdout io.Writer
}

// parseFlags parses args into fs, turning --help into errHelpShown and any
// other flag error into a UsageError. Positional arguments are refused.
func parseFlags(fs *flag.FlagSet, name string, args []string) error {
	_, err := parseFlagsArg(fs, name, args, false)
	return err
}

// parseFlagsArg is parseFlags for a command that takes one positional
// argument, before or after its flags; it returns it ("" when absent and
// not required).
func parseFlagsArg(fs *flag.FlagSet, name string, args []string, one bool) (string, error) {
	var arg string
	if one && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		arg, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			if h, ok := fs.Output().(*helpText); ok {
				h.WriteTo(h.stdout)
			}
			return "", errHelpShown
		}
		return "", usageErrorf(name, "%s", flagMessage(fs, err))
	}
	rest := fs.Args()
	if one && arg == "" && len(rest) > 0 {
		arg, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 {
		return "", usageErrorf(name, "unexpected argument %q", strings.Join(rest, " "))
	}
	return arg, nil
}
