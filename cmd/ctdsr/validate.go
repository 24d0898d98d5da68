package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/batch/manifest"
	"github.com/ctdsr/ctdsr/batch/report"
)

// maxListedRejects is how many rejects validate prints; --out has them all.
const maxListedRejects = 20

// cmdValidate parses and validates manifests without calling CleverTap. It
// prints a summary on stdout and, with --out, writes every reject to
// rejects.parquet. Exit 0 when clean, 3 when rows were rejected, 2 when a
// manifest is unreadable.
func cmdValidate(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "validate", "--manifest FILE [--manifest FILE …] [--out DIR] [--sheet NAME]")
	var manifests multiFlag
	fs.Var(&manifests, "manifest", "manifest to check: .csv, .tsv, .txt, .parquet or .xlsx (repeatable)")
	out := fs.String("out", "", "write every reject to `DIR`/rejects.parquet")
	sheet := fs.String("sheet", "", "workbook sheet to read (default: the first sheet)")
	if err := parseFlags(fs, "validate", args); err != nil {
		return err
	}
	if len(manifests) == 0 {
		return usageErrorf("validate", "no manifest given; use --manifest FILE")
	}

	v := &validation{opts: manifest.Options{Sheet: *sheet, Dedup: manifest.NewDeduper()}}
	if *out != "" {
		if err := os.MkdirAll(*out, 0o700); err != nil {
			return fmt.Errorf("create output directory: %w", err)
		}
		w, err := report.Create[report.RejectRow](filepath.Join(*out, report.RejectsFile))
		if err != nil {
			return err
		}
		defer w.Abort() // no-op once closed
		v.rejects = w
	}
	for _, path := range manifests {
		if err := v.read(ctx, path); err != nil {
			return err
		}
	}
	v.print(env.Stdout)
	if v.rejects != nil {
		if err := v.rejects.Close(); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "rejects written to %s\n", v.rejects.Path())
	}
	return v.result()
}

// validation accumulates what validate reports.
type validation struct {
	opts       manifest.Options
	rejects    *report.Writer[report.RejectRow] // nil without --out
	files      []fileResult
	unreadable []error
	listed     []batch.Reject // the first maxListedRejects
	rejected   int            // rows and files rejected
	merged     int
	types      map[batch.RequestType]int
}

type fileResult struct {
	info manifest.Info
	err  error // a *manifest.FileError when unreadable
}

// read validates one manifest. Only a failure to go on (cancellation, the
// rejects file) is returned; an unreadable manifest is recorded.
func (v *validation) read(ctx context.Context, path string) error {
	info, err := manifest.Read(ctx, path, v.opts, func(row manifest.Row) error {
		if row.Reject != nil {
			return v.reject(*row.Reject)
		}
		return nil
	})
	var fe *manifest.FileError
	switch {
	case errors.As(err, &fe):
		v.files = append(v.files, fileResult{info: info, err: err})
		v.unreadable = append(v.unreadable, err)
		return v.reject(batch.Reject{SourceFile: path, SourceRow: fe.Row, Column: fe.Column,
			Reason: strings.Join(strings.Fields(fe.Err.Error()), " ")})
	case err != nil:
		return err
	}
	v.add(info)
	return nil
}

// add counts a manifest that was read.
func (v *validation) add(info manifest.Info) {
	v.files = append(v.files, fileResult{info: info})
	v.merged += info.Merged
	if v.types == nil {
		v.types = map[batch.RequestType]int{}
	}
	for t, n := range info.Types {
		v.types[t] += n
	}
}

func (v *validation) reject(r batch.Reject) error {
	v.rejected++
	if len(v.listed) < maxListedRejects {
		v.listed = append(v.listed, r)
	}
	if v.rejects != nil {
		return v.rejects.Write(report.RejectRowOf(r))
	}
	return nil
}

// print writes the human summary. It names files, columns and request ids,
// never emails.
func (v *validation) print(w io.Writer) {
	fmt.Fprintf(w, "manifests: %d\n", len(v.files))
	for _, f := range v.files {
		if f.err != nil {
			fmt.Fprintf(w, "  %s: unreadable: %s\n", f.info.Path, strings.TrimPrefix(f.err.Error(), f.info.Path+": "))
			continue
		}
		i := f.info
		fmt.Fprintf(w, "  %s: %s", i.Path, i.Format)
		if i.Sheet != "" {
			fmt.Fprintf(w, " sheet %q", i.Sheet)
		}
		fmt.Fprintf(w, ", %d rows", i.Rows)
		if i.Blank > 0 {
			fmt.Fprintf(w, " (%d blank skipped)", i.Blank)
		}
		fmt.Fprintf(w, ", sha256 %s\n", i.SHA256[:12])
		if len(i.UnknownColumns) > 0 {
			fmt.Fprintf(w, "    ignored columns: %s\n", quoteColumns(i.UnknownColumns))
		}
	}
	access, deletion := v.types[batch.Access], v.types[batch.Deletion]
	fmt.Fprintf(w, "requests: %d (access %d, deletion %d)\n", access+deletion, access, deletion)
	fmt.Fprintf(w, "duplicates merged: %d\n", v.merged)
	fmt.Fprintf(w, "rejects: %d\n", v.rejected)
	for _, r := range v.listed {
		fmt.Fprintf(w, "  %s\n", r)
	}
	if more := v.rejected - len(v.listed); more > 0 {
		where := "use --out DIR to write them all"
		if v.rejects != nil {
			where = "all are in " + v.rejects.Path()
		}
		fmt.Fprintf(w, "  … and %d more (%s)\n", more, where)
	}
}

// result maps the outcome to validate's exit code: 2 for an unreadable
// manifest, 3 for rejected rows.
func (v *validation) result() error {
	switch {
	case len(v.unreadable) == 1:
		return &UsageError{Err: v.unreadable[0]}
	case len(v.unreadable) > 1:
		return &UsageError{Err: fmt.Errorf("%w (and %d more unreadable manifests, listed above)",
			v.unreadable[0], len(v.unreadable)-1)}
	case v.rejected > 0:
		return fmt.Errorf("%d %s: %w", v.rejected, plural(v.rejected, "reject", "rejects"), ErrRowsFailed)
	}
	return nil
}

// quoteColumns lists header names, masking any that look like an email.
func quoteColumns(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		if strings.Contains(n, "@") {
			n = "(an email address)"
		}
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
