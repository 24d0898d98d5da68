package checkpoint

import (
	"errors"

	"github.com/ctdsr/ctdsr/batch"
)

// Errors a caller may test for with errors.Is.
var (
	// ErrNotLedger means the file exists but is not a ctdsr ledger (not an
	// SQLite database, or one that holds another application's tables).
	// Open leaves such a file untouched.
	ErrNotLedger = errors.New("not a ctdsr ledger")

	// ErrNewerLedger means the ledger was migrated by a newer ctdsr than this
	// one; this build refuses to write to it.
	ErrNewerLedger = errors.New("ledger written by a newer ctdsr")

	// ErrLocked means another run holds the ledger. The error is a
	// *LockedError naming the holder.
	ErrLocked = errors.New("ledger is in use by another run")

	// ErrLockLost means the run no longer holds the ledger: its lock went
	// stale and another run took it over. The run must stop writing.
	ErrLockLost = errors.New("ledger lock lost to another run")

	// ErrUnknownRequest means no request with the given ID is in the ledger.
	// It is batch.ErrUnknownRequest. Refused status changes match
	// batch.ErrTransition, writes to a request of the other type
	// batch.ErrWrongType.
	ErrUnknownRequest = batch.ErrUnknownRequest

	// ErrUnknownManifest means no manifest with the given SHA-256 is in the
	// ledger.
	ErrUnknownManifest = errors.New("manifest not in the ledger")

	// ErrUnknownRun means no run with the given ID is in the ledger.
	ErrUnknownRun = errors.New("run not in the ledger")

	// ErrClosed means an Importer was used after Finish or Close.
	ErrClosed = errors.New("ledger closed")
)
