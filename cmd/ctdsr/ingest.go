package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/ctdsr/ctdsr/batch/manifest"
	"github.com/ctdsr/ctdsr/checkpoint"
)

// ingestResult says what loading the manifests did.
type ingestResult struct {
	Manifests []manifestSummary
	Counts    checkpoint.ImportResult // every manifest's rows together
}

type manifestSummary struct {
	Path          string   `json:"path"`
	SHA256        string   `json:"sha256"`
	Format        string   `json:"format,omitempty"`
	Rows          int      `json:"rows"`
	AlreadyLoaded bool     `json:"already_loaded"`
	Unknown       []string `json:"unknown_columns,omitempty"`
}

// ingest loads every manifest into the ledger for run runID. A manifest
// already loaded (same SHA-256) is attached to the run without reading it
// again. An unreadable file is a usage error naming it; nothing after it
// is read.
func ingest(ctx context.Context, store *checkpoint.Store, runID string, paths []string, opts manifest.Options, log *slog.Logger) (res ingestResult, err error) {
	withoutMemoryLimit(func() { res, err = ingestAll(ctx, store, runID, paths, opts, log) })
	return res, err
}

func ingestAll(ctx context.Context, store *checkpoint.Store, runID string, paths []string, opts manifest.Options, log *slog.Logger) (ingestResult, error) {
	var res ingestResult
	// The ledger's import merges repeated request ids and rejects
	// conflicting ones, across manifests and runs, exactly; a Deduper in
	// front of it would hold every id in memory (80 MB a million) to do
	// the same.
	opts.NoDedup = true
	for _, path := range paths {
		sum, err := manifest.HashFile(path)
		if err != nil {
			return res, cannotRead(path, err)
		}
		loaded, err := store.ManifestLoaded(ctx, sum)
		if err != nil {
			return res, fmt.Errorf("ledger: %w", err)
		}
		if loaded {
			if err := store.AttachManifest(ctx, runID, sum); err != nil {
				return res, fmt.Errorf("ledger: %w", err)
			}
			log.Info("manifest already loaded; not read again", "manifest", path, "sha256", sum[:12])
			res.Manifests = append(res.Manifests, manifestSummary{Path: path, SHA256: sum, AlreadyLoaded: true})
			continue
		}
		ms, ir, err := importOne(ctx, store, runID, path, sum, opts)
		if err != nil {
			return res, err
		}
		log.Info("manifest loaded", "manifest", path, "format", ms.Format, "rows", ms.Rows,
			"added", ir.Added, "unchanged", ir.Unchanged, "merged", ir.Merged, "rejected", ir.Rejected, "conflicts", ir.Conflicts)
		if len(ms.Unknown) > 0 {
			log.Info("manifest columns ignored", "manifest", path, "columns", ms.Unknown)
		}
		res.Manifests = append(res.Manifests, ms)
		res.Counts.Add(ir)
	}
	return res, nil
}

func importOne(ctx context.Context, store *checkpoint.Store, runID, path, sum string, opts manifest.Options) (manifestSummary, checkpoint.ImportResult, error) {
	imp, err := store.NewImporter(ctx, runID, checkpoint.ManifestInfo{SHA256: sum, Path: path, Format: ledgerFormat(path)})
	if err != nil {
		return manifestSummary{}, checkpoint.ImportResult{}, fmt.Errorf("ledger: %w", err)
	}
	defer imp.Close() // waits for a batch still being written if the read fails
	info, err := manifest.Read(ctx, path, opts, func(r manifest.Row) error {
		if r.Reject != nil {
			return imp.Reject(ctx, *r.Reject)
		}
		return imp.Add(ctx, *r.Request) // a merged duplicate still records its source row
	})
	var fe *manifest.FileError
	if errors.As(err, &fe) {
		return manifestSummary{}, checkpoint.ImportResult{}, &UsageError{Err: err, Hint: "fix the file, or see 'ctdsr validate --help'"}
	}
	if err != nil {
		return manifestSummary{}, checkpoint.ImportResult{}, fmt.Errorf("loading %s: %w", path, err)
	}
	if info.SHA256 != sum {
		return manifestSummary{}, checkpoint.ImportResult{}, fmt.Errorf("manifest %s changed while it was read", path)
	}
	ir, err := imp.Finish(ctx, info.Rows)
	if err != nil {
		return manifestSummary{}, ir, fmt.Errorf("ledger: %w", err)
	}
	return manifestSummary{Path: path, SHA256: sum, Format: string(info.Format), Rows: info.Rows, Unknown: info.UnknownColumns}, ir, nil
}

// ledgerFormat is the manifest's format for the ledger's record;
// manifest.Read decides and checks the real one.
func ledgerFormat(path string) string {
	f, err := manifest.FormatOf(path)
	if err != nil {
		return "unknown"
	}
	return string(f)
}

// cannotRead is the usage error of a manifest that cannot be opened or
// read; it names the path once.
func cannotRead(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &UsageError{Err: fmt.Errorf("%s: cannot read: %w", path, err), Hint: "check the --manifest path"}
}
