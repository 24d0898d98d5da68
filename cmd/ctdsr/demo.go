package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/ctdsr/ctdsr/batch/report"
	"github.com/ctdsr/ctdsr/clevertap"
	"github.com/ctdsr/ctdsr/clevertap/ctsim"
	"github.com/parquet-go/parquet-go"
)

const demoSynopsis = `[--out DIR] [flags]

Starts the built-in CleverTap simulator with the demo dataset, runs the
sample manifest end to end (access bundles, deletions verified after a short
deletion delay) and prints what happened and where the reports are.`

func cmdDemo(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "demo", demoSynopsis)
	var (
		lf    logFlags
		out   string
		delay time.Duration
		wait  time.Duration
	)
	lf.register(fs, "warn")
	fs.StringVar(&out, "out", "demo-out", "directory for the ledger, the sample manifest and the reports (recreated)")
	fs.DurationVar(&delay, "deletion-delay", 5*time.Second, "how long the simulator takes to carry a delete out")
	fs.DurationVar(&wait, "verify-window", 45*time.Second, "how long to wait for deletions to be verified")
	if err := parseFlags(fs, "demo", args); err != nil {
		return err
	}
	log, err := lf.logger("demo", env)
	if err != nil {
		return err
	}
	if err := resetDemoDir(out); err != nil {
		return err
	}
	manifestPath := filepath.Join(out, "manifest.csv")
	if err := os.WriteFile(manifestPath, ctsim.DemoManifest(), 0o600); err != nil {
		return fmt.Errorf("writing the sample manifest: %w", err)
	}

	ds, err := ctsim.DemoDataset()
	if err != nil {
		return fmt.Errorf("demo dataset: %w", err)
	}
	sim, err := ctsim.New(ds, ctsim.Options{DeletionDelay: delay, NoDeletionDelay: delay == 0, Now: time.Now().UTC()})
	if err != nil {
		return fmt.Errorf("starting the simulator: %w", err)
	}
	simCtx, stopSim := context.WithCancel(ctx)
	defer stopSim()
	go followWallClock(simCtx, sim)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("starting the simulator: %w", err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(env.Stdout, "CleverTap simulator on %s: %d profiles, %d events; deletes take effect after %s\n",
		base, len(ds.Profiles), len(ds.Events), delay)
	fmt.Fprintf(env.Stdout, "running %s ...\n\n", manifestPath)

	client, err := clevertap.NewClient(
		clevertap.WithBaseURL(base),
		clevertap.WithCredentials(ds.Account.ID, clevertap.Passcode(ds.Account.Passcodes[0])),
		clevertap.WithLogger(log),
	)
	if err != nil {
		return err
	}
	start := time.Now()
	cfg := defaultJobConfig()
	cfg.Manifests = []string{manifestPath}
	cfg.State, cfg.Out = filepath.Join(out, "ledger.db"), filepath.Join(out, "reports")
	cfg.Args = append([]string{"demo"}, args...)
	cfg.ProgressEvery = 10 * time.Second
	cfg.Batch.Workers = 8
	cfg.Batch.VerifyWindow = wait
	cfg.Batch.VerifyFirst = max(delay/2, 500*time.Millisecond)
	// The demo account, like many real ones, is not in UTC: its event times
	// are IST, which the run is told as a user would with --timezone.
	if cfg.Batch.Location, err = time.LoadLocation(ds.Account.Timezone); err != nil {
		return fmt.Errorf("demo dataset: %w", err)
	}
	cfg.ZoneGiven = true
	runErr := runJob(ctx, env, client, cfg, log)
	if runErr != nil && !errors.Is(runErr, ErrRowsFailed) {
		return runErr
	}
	fmt.Fprintln(env.Stdout)
	if err := printRequests(env.Stdout, filepath.Join(out, "reports", report.RequestsFile)); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "\ndone in %s. Reports: %s (%s, Parquet, access packages in %s/ with %s, %s); ledger: %s\n",
		time.Since(start).Round(100*time.Millisecond), filepath.Join(out, "reports"), report.WorkbookFile,
		report.PackagesDir, report.PackageSumsFile, report.SummaryFile, filepath.Join(out, "ledger.db"))
	fmt.Fprintf(env.Stdout, "See the ledger: %s status --state %s\n", env.self(), filepath.Join(out, "ledger.db"))
	return runErr
}

// resetDemoDir empties the demo's own files so every demo starts afresh,
// refusing to touch a directory that holds anything else.
func resetDemoDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		return err
	}
	own := map[string]bool{"manifest.csv": true, "ledger.db": true, "ledger.db-wal": true, "ledger.db-shm": true, "reports": true}
	for _, e := range entries {
		if !own[e.Name()] {
			return usageErrorf("demo", "%s holds %s, which the demo did not write; choose another --out", dir, e.Name())
		}
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// printRequests reads requests.parquet back and prints one line per request.
func printRequests(w io.Writer, path string) error {
	rows, err := parquet.ReadFile[report.RequestRow](path)
	if err != nil {
		return fmt.Errorf("reading %s back: %w", path, err)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REQUEST\tTYPE\tSTATUS\tPROFILES\tEVENTS\tDETAIL")
	for _, r := range rows {
		detail := r.Detail
		if len(detail) > 70 {
			detail = detail[:67] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", r.RequestID, r.RequestType, r.Status, r.ProfilesFound, r.EventsExported, detail)
	}
	return tw.Flush()
}
