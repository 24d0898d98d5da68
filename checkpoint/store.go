package checkpoint

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Defaults for Options.
const (
	DefaultStaleLockAfter = 2 * time.Minute
	DefaultImportBatch    = 250000
)

// writerParams configure the one writer connection. Every pragma is in the
// DSN so that it applies to each connection the driver opens; WAL is
// verified after connecting. _txlock=immediate makes every transaction take
// the write lock at BEGIN, so two writers queue on busy_timeout instead of
// failing with SQLITE_BUSY when one upgrades a read. synchronous(FULL)
// syncs the WAL at every commit, so what a method committed survives a
// power cut (a deletion's plan before its delete call). temp_store(memory)
// keeps SQLite's temporary files (statement journals, sorts), which would
// hold personal data, off the disk. The page cache is writerCache; an
// import raises it to importCache while it runs.
const writerParams = "_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" +
	"&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_txlock=immediate" +
	"&_pragma=temp_store(memory)&_pragma=cache_size(" + writerCache + ")"

// The writer's page cache, in KiB as PRAGMA cache_size takes it (negative):
// 8 MiB normally; 32 MiB while an import runs, which holds most of the
// request-ID index pages a commit of a million-row import rewrites (a
// UUID-keyed million loads 15 % faster than with 8 MiB).
const (
	writerCache = "-8192"
	importCache = "-32768"
)

// readerParams configure the read-only pool: SQLite opens the file
// read-only, so a bug cannot write through it.
const readerParams = "mode=ro&_pragma=busy_timeout(5000)&_pragma=temp_store(memory)"

// readerConns bounds the read-only pool.
const readerConns = 4

// Options configure a Store. The zero value is ready to use.
type Options struct {
	// Now is the clock for every stored time and for lock staleness.
	// Default time.Now.
	Now func() time.Time

	// StaleLockAfter is how old the holder's heartbeat must be before
	// BeginRun takes the lock over even though the holder may be alive.
	// Default DefaultStaleLockAfter; the run should heartbeat several times
	// within it.
	StaleLockAfter time.Duration

	// ImportBatch is how many manifest rows an Importer commits per
	// transaction (it holds at most 10,000 in memory at a time whatever
	// this is). Default DefaultImportBatch: with random request ids each
	// commit rewrites most of the index pages its rows touched, so
	// 250,000 rows per commit load a million UUID-keyed rows (the
	// command, 2 cores) in 14 s against 16 s with 100,000 and 35 s with
	// 10,000, while a crash still costs only re-reading the rows not yet
	// committed (and a commit is at most maxImportTxAge apart).
	ImportBatch int

	// importBuffer is how many rows an Importer holds in memory at most
	// (default importBuffer); tests lower it.
	importBuffer int

	// MustExist makes Open fail (with an error wrapping fs.ErrNotExist)
	// instead of creating a missing ledger, for read-only commands.
	MustExist bool

	// Logger receives warnings (a lock taken over, a file's permissions
	// tightened) and migration notes. It never receives personal data.
	// Default: discard.
	Logger *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.StaleLockAfter < 0 {
		return o, fmt.Errorf("StaleLockAfter %v is negative", o.StaleLockAfter)
	}
	if o.ImportBatch < 0 {
		return o, fmt.Errorf("ImportBatch %d is negative", o.ImportBatch)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.StaleLockAfter == 0 {
		o.StaleLockAfter = DefaultStaleLockAfter
	}
	if o.importBuffer == 0 {
		o.importBuffer = importBuffer
	}
	if o.ImportBatch == 0 {
		o.ImportBatch = DefaultImportBatch
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// Store is an open ledger. Its methods are safe for concurrent use; writes
// are serialised through one connection, and each method that changes the
// ledger has committed when it returns nil.
type Store struct {
	path string
	db   *sql.DB // the one writer connection
	rdb  *sql.DB // read-only pool
	opts Options
	log  *slog.Logger

	mu    sync.Mutex
	stmts map[string]*sql.Stmt // prepared on db, reused by every transaction

	// Who this process is, for the ledger lock; tests override them.
	host  string
	pid   int
	alive func(pid int) bool
}

// Open opens the ledger at path, creating it (directory 0700, file 0600)
// when missing, and brings its schema up to date. It refuses a file that
// is not a ctdsr ledger with ErrNotLedger, leaving it untouched.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	s, err := open(ctx, path, opts)
	if err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	return s, nil
}

func open(ctx context.Context, path string, opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("options: %w", err)
	}
	if path == "" {
		return nil, errors.New("no path given")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("resolve path: %w", err)
	}
	if err := createFile(abs, opts.MustExist); err != nil {
		return nil, err
	}
	if err := probe(ctx, abs); err != nil {
		return nil, err
	}
	if err := tightenAll(abs, opts.Logger); err != nil {
		return nil, err
	}
	host, err := os.Hostname()
	if err != nil {
		return nil, fmt.Errorf("hostname: %w", err)
	}
	s := &Store{
		path: abs, opts: opts, log: opts.Logger,
		host: host, pid: os.Getpid(), alive: processAlive,
	}
	if s.db, err = sql.Open("sqlite", dsn(abs, writerParams)); err != nil {
		return nil, fmt.Errorf("open writer: %w", err)
	}
	s.db.SetMaxOpenConns(1)
	s.db.SetMaxIdleConns(1)
	s.db.SetConnMaxLifetime(0)
	s.db.SetConnMaxIdleTime(0)
	if err := s.init(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	if s.rdb, err = sql.Open("sqlite", dsn(abs, readerParams)); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("open reader: %w", err)
	}
	s.rdb.SetMaxOpenConns(readerConns)
	if err := s.rdb.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("connect reader: %w", err)
	}
	return s, nil
}

// init connects the writer, checks its pragmas took effect and migrates.
func (s *Store) init(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("connect writer: %w", err)
	}
	if err := verifyPragmas(ctx, s.db); err != nil {
		return fmt.Errorf("verify connection: %w", err)
	}
	if err := migrate(ctx, s.db, migrationFiles, s.opts.Now, s.log); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := verifyApplicationID(ctx, s.db); err != nil {
		return fmt.Errorf("verify ledger: %w", err)
	}
	return nil
}

// prepared returns the queries prepared on the writer, preparing each
// once. It must not be called inside a writer transaction: preparing
// needs the writer's one connection.
func (s *Store) prepared(ctx context.Context, queries []string) (map[string]*sql.Stmt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stmts == nil {
		s.stmts = map[string]*sql.Stmt{}
	}
	for _, q := range queries {
		if _, ok := s.stmts[q]; ok {
			continue
		}
		st, err := s.db.PrepareContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
		s.stmts[q] = st
	}
	return maps.Clone(s.stmts), nil
}

// Path is the ledger's absolute path.
func (s *Store) Path() string { return s.path }

// Close closes the ledger. Work not yet committed (an Importer's buffered
// rows) is lost; everything committed stays.
func (s *Store) Close() error {
	var errs []error
	s.mu.Lock()
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = nil
	s.mu.Unlock()
	if s.rdb != nil {
		if err := s.rdb.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close reader: %w", err))
		}
	}
	if err := s.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close writer: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close ledger %s: %w", s.path, err)
	}
	return nil
}

// dsn builds a SQLite URI for path. The driver splits the DSN at the first
// '?', and SQLite decodes %XX in the path, so '%', '?' and '#' are escaped.
func dsn(path, params string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23")
	return "file:" + r.Replace(filepath.ToSlash(path)) + "?" + params
}

// verifyPragmas checks that the DSN's pragmas took effect: a filesystem
// without shared memory silently stays in a rollback journal, for one.
func verifyPragmas(ctx context.Context, db *sql.DB) error {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("read journal_mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal_mode is %q, want wal (network filesystems cannot hold a ledger)", mode)
	}
	for _, p := range []struct {
		name string
		want int
	}{{"foreign_keys", 1}, {"busy_timeout", 5000}, {"synchronous", 2}} {
		var got int
		if err := db.QueryRowContext(ctx, "PRAGMA "+p.name).Scan(&got); err != nil {
			return fmt.Errorf("read %s: %w", p.name, err)
		}
		if got != p.want {
			return fmt.Errorf("%s is %d, want %d", p.name, got, p.want)
		}
	}
	return nil
}
