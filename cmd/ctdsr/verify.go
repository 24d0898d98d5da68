package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ctdsr/ctdsr/batch/report"
	"github.com/ctdsr/ctdsr/checkpoint"
)

const verifySynopsis = `DIR [--state LEDGER.db]

Checks a report directory against its summary.json: every file listed is
there with its size and SHA-256, and every access package with the digest
access/SHA256SUMS lists. With --state it also checks, for reports a run
wrote, that the ledger recorded this summary for its run, and that the
summary names the previous run's summary as the ledger does (the chain of
summaries); for reports 'ctdsr report' wrote, which belong to no run, that
every access package is the one the ledger renders for its request.
Exit 0 when everything matches, 3 when something does not.`

// ErrNotVerified means a report directory does not match its summary; it
// maps to exit code 3.
var ErrNotVerified = errors.New("reports do not match their summary")

func cmdVerifyReports(ctx context.Context, env *Env, args []string) error {
	flags := newFlagSet(env, "verify-reports", verifySynopsis)
	state := flags.String("state", "", "the ledger that wrote the reports, to check the summary chain")
	dir, err := parseFlagsArg(flags, "verify-reports", args, true)
	if err != nil {
		return err
	}
	if dir == "" {
		return usageErrorf("verify-reports", "no report directory given")
	}
	b, err := os.ReadFile(filepath.Join(dir, report.SummaryFile))
	if errors.Is(err, fs.ErrNotExist) {
		return usageErrorf("verify-reports", "%s holds no %s", dir, report.SummaryFile)
	}
	if err != nil {
		return err
	}
	var sum runSummary
	if err := json.Unmarshal(b, &sum); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, report.SummaryFile), err)
	}
	var kind struct {
		Command string `json:"command"`
	}
	if err := json.Unmarshal(b, &kind); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, report.SummaryFile), err)
	}
	// A `ctdsr report` render has a command and no run id; a run's summary
	// has a run id and no command.
	rendered := kind.Command == "report" && sum.RunID == ""
	problems := report.Verify(dir, sum.OutputFiles)
	pkgs, err := report.VerifyPackages(dir)
	if err != nil {
		problems = append(problems, err.Error())
	}
	problems = append(problems, pkgs...)
	if !rendered && sum.RunID == "" {
		problems = append(problems, fmt.Sprintf("%s: names no run, and is not the summary of a 'ctdsr report' render", report.SummaryFile))
	}
	if *state != "" {
		check := verifyChain
		if rendered {
			check = verifyRender
		}
		more, err := check(ctx, *state, dir, sum)
		if err != nil {
			return err
		}
		problems = append(problems, more...)
	}
	for _, p := range problems {
		fmt.Fprintf(env.Stdout, "MISMATCH %s\n", p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %w (%d problem(s))", dir, ErrNotVerified, len(problems))
	}
	of := "of run " + sum.RunID
	if rendered {
		of = "of a 'ctdsr report' render (no run)"
	}
	fmt.Fprintf(env.Stdout, "%s: %d file(s) match summary.json %s\n", dir, len(sum.OutputFiles), of)
	if rendered && *state != "" {
		fmt.Fprintf(env.Stdout, "%s: the access packages match the ledger %s\n", dir, *state)
	}
	return nil
}

// verifyRender checks what the ledger can say of a `ctdsr report` render,
// which no run wrote and the ledger has no record of: that every access
// package listed is the one the ledger renders for its request, in the
// account time zone.
func verifyRender(ctx context.Context, state, dir string, _ runSummary) ([]string, error) {
	st, err := openExisting(ctx, state, "verify-reports")
	if err != nil {
		return nil, err
	}
	defer st.Close()
	zone, err := accountZone(ctx, st)
	if err != nil {
		return nil, err
	}
	problems, err := report.VerifyPackagesWithLedger(ctx, dir, st, zone)
	if err != nil {
		return nil, fmt.Errorf("check the access packages against %s: %w", state, err)
	}
	return problems, nil
}

// verifyChain checks the summary against what the ledger recorded.
func verifyChain(ctx context.Context, state, dir string, sum runSummary) ([]string, error) {
	st, err := openExisting(ctx, state, "verify-reports")
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var problems []string
	sha, err := report.SHA256File(filepath.Join(dir, report.SummaryFile))
	if err != nil {
		return nil, err
	}
	recorded, err := st.SummaryOf(ctx, sum.RunID)
	switch {
	case errors.Is(err, checkpoint.ErrUnknownRun):
		return []string{fmt.Sprintf("summary.json: run %s is not in the ledger", sum.RunID)}, nil
	case err != nil:
		return nil, err
	case recorded != sha:
		problems = append(problems, fmt.Sprintf("summary.json: SHA-256 %s, the ledger recorded %q for run %s", sha, recorded, sum.RunID))
	}
	prevRun, prevSHA, err := st.PreviousSummary(ctx, sum.RunID)
	if err != nil {
		return nil, err
	}
	if prevRun != sum.PreviousRunID || prevSHA != sum.PreviousSummarySHA256 {
		problems = append(problems, fmt.Sprintf("summary.json: previous summary %s/%s, the ledger says %s/%s",
			sum.PreviousRunID, sum.PreviousSummarySHA256, prevRun, prevSHA))
	}
	return problems, nil
}
