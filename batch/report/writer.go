package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/parquet-go/parquet-go"
)

// DefaultMaxRowsPerRowGroup bounds row groups: a writer buffers one row
// group in memory, so this bounds its memory whatever the row count.
const DefaultMaxRowsPerRowGroup = 131_072

// Option configures a Writer.
type Option func(*config) error

type config struct {
	maxRows int64
}

// MaxRowsPerRowGroup sets the number of rows buffered before a row group is
// written (default DefaultMaxRowsPerRowGroup).
func MaxRowsPerRowGroup(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("max rows per row group must be positive, got %d", n)
		}
		c.maxRows = n
		return nil
	}
}

// Writer writes rows of type T to one Parquet file, which appears at its
// path only when Close succeeds. A Writer is not safe for concurrent use.
type Writer[T any] struct {
	path string
	tmp  *os.File
	buf  *bufio.Writer
	pw   *parquet.GenericWriter[T]
	rows int64
	err  error // sticky: after a failed write, only Abort is useful
	done bool
}

// Create starts a Parquet file of T rows at path, writing to a temporary
// file next to it. The caller must Close (to publish) or Abort it.
func Create[T any](path string, opts ...Option) (*Writer[T], error) {
	cfg := config{maxRows: DefaultMaxRowsPerRowGroup}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
	}
	schema, err := schemaOf[T]()
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	tmp, err := createTemp(path)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	w := &Writer[T]{path: path, tmp: tmp, buf: bufio.NewWriterSize(tmp, 1<<20)}
	w.pw, err = newGenericWriter[T](w.buf, schema, cfg)
	if err != nil {
		w.Abort()
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return w, nil
}

func newGenericWriter[T any](buf *bufio.Writer, schema *parquet.Schema, cfg config) (pw *parquet.GenericWriter[T], err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("parquet writer: %v", p)
		}
	}()
	return parquet.NewGenericWriter[T](buf, schema,
		parquet.MaxRowsPerRowGroup(cfg.maxRows),
		parquet.Compression(&parquet.Zstd),
		parquet.CreatedBy("ctdsr", "", ""),
	), nil
}

// Path is where the file appears on Close.
func (w *Writer[T]) Path() string { return w.path }

// Rows is the number of rows written so far.
func (w *Writer[T]) Rows() int64 { return w.rows }

// Write appends rows. After an error, every later Write and Close fails.
func (w *Writer[T]) Write(rows ...T) error {
	switch {
	case w.err != nil:
		return w.err
	case w.done:
		return fmt.Errorf("write %s: writer already closed", w.path)
	}
	n, err := w.pw.Write(rows)
	w.rows += int64(n)
	if err != nil {
		w.err = fmt.Errorf("write %s: %w", w.path, err)
	}
	return w.err
}

// Close finishes the file, fsyncs it and renames it into place. On any
// failure the temporary file is removed and the previous file at the path,
// if any, is left untouched.
func (w *Writer[T]) Close() error {
	if w.done {
		return w.err
	}
	if w.err != nil {
		w.Abort()
		return w.err
	}
	w.done = true
	w.err = publish(w.tmp, w.path, step{"finish", w.pw.Close}, step{"flush", w.buf.Flush})
	return w.err
}

// Abort discards the file. It is safe to call after Close, when it does
// nothing, and more than once.
func (w *Writer[T]) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	if w.err == nil {
		w.err = errors.New("writer aborted")
	}
	w.tmp.Close()
	if err := os.Remove(w.tmp.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("abort %s: %w", w.path, err)
	}
	return nil
}

// step is one stage of publishing a file, named in its error.
type step struct {
	what string
	do   func() error
}

// createTemp creates the temporary file a write to path goes through:
// ".<name>.<random>.tmp" in path's directory (so the final rename stays on
// one file system), mode 0600. Every temporary entry this package makes
// follows that pattern, so leftovers from a killed process are easy to find.
func createTemp(path string) (*os.File, error) {
	return os.CreateTemp(filepath.Dir(path), tempPattern(path))
}

// tempPattern is the os.CreateTemp/os.MkdirTemp pattern for temporary
// entries next to path.
func tempPattern(path string) string { return "." + filepath.Base(path) + ".*.tmp" }

// writeAtomic writes path through a temporary file: write fills it through
// a buffer; then it is flushed and published. On any failure the temporary
// file is removed and the file at path, if any, is left as it was.
func writeAtomic(path string, write func(io.Writer) error) error {
	tmp, err := createTemp(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	buf := bufio.NewWriterSize(tmp, 1<<20)
	return publish(tmp, path, step{"write", func() error { return write(buf) }}, step{"flush", buf.Flush})
}

// publish runs the steps that complete tmp, then fsyncs and closes it,
// renames it to path and fsyncs the directory so the rename survives a
// crash. If any step up to and including the rename fails, tmp is removed
// and the file at path, if any, is left as it was.
func publish(tmp *os.File, path string, first ...step) error {
	steps := append(first,
		step{"fsync", tmp.Sync},
		step{"close", tmp.Close},
		step{"rename", func() error { return os.Rename(tmp.Name(), path) }},
	)
	for _, s := range steps {
		if err := s.do(); err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return fmt.Errorf("%s %s: %w", s.what, path, err)
		}
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("fsync directory of %s: %w", path, err)
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
