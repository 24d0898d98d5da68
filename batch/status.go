package batch

import (
	"errors"
	"fmt"
	"slices"
)

// Status is where a request stands. The lifecycle table below says, for
// each status, which request types can be in it, whether it ends the
// request, what the reports call it and where it may move next. The ledger,
// the in-memory test store and the reports all read that table: adding a
// status is a row here, a ledger migration if existing rows change, and
// nothing else.
type Status string

// The statuses, in lifecycle order.
const (
	StatusPending         Status = "pending"          // accepted, no verdict yet; picked up by every run
	StatusNotFound        Status = "not_found"        // CleverTap held no profile for the subject
	StatusFailed          Status = "failed"           // gave up; Detail says why
	StatusDone            Status = "done"             // access bundle extracted
	StatusDeleteSubmitted Status = "delete_submitted" // CleverTap accepted the delete; verifying
	StatusDeleteAccepted  Status = "delete_accepted"  // CleverTap accepted the delete; closed unverified (--deletion-complete-on submit)
	StatusVerified        Status = "verified"         // searched again after the delete: gone
	StatusReappeared      Status = "reappeared"       // gone, but the person came back as a new profile
	StatusConflict        Status = "conflict"         // the row's email and user id lead to different people
)

// StatusInfo is one row of the lifecycle table.
type StatusInfo struct {
	Status Status
	// Types are the request types that can be in this status.
	Types []RequestType
	// Terminal statuses end a request: no run picks it up again.
	Terminal bool
	// Problem statuses make a finished run exit 3: a person must look.
	Problem bool
	// Report is the name reports, summaries and `ctdsr status` show.
	Report string
	// Next lists the statuses a request may move to from this one (a
	// status may list itself: a repeated verification, say). A move to a
	// status the request's type cannot be in is refused even if listed.
	Next []Status
	// Discards: entering this status drops the request's exported
	// profiles and events from the ledger (they may be someone else's).
	Discards bool
	// Meaning explains the status in one line, for help and docs.
	Meaning string
}

var (
	bothTypes    = []RequestType{Access, Deletion}
	accessOnly   = []RequestType{Access}
	deletionOnly = []RequestType{Deletion}
)

// lifecycle is the table. Order is the order reports list statuses in.
var lifecycle = []StatusInfo{
	{Status: StatusPending, Types: bothTypes, Report: "pending",
		Next:    []Status{StatusDone, StatusNotFound, StatusFailed, StatusConflict, StatusDeleteSubmitted, StatusDeleteAccepted},
		Meaning: "not finished yet; the next run continues it"},
	{Status: StatusDone, Types: accessOnly, Terminal: true, Report: "done",
		Meaning: "every profile and event found was exported"},
	{Status: StatusDeleteSubmitted, Types: deletionOnly, Report: "submitted",
		Next:    []Status{StatusDeleteSubmitted, StatusDeleteAccepted, StatusVerified, StatusReappeared, StatusFailed, StatusConflict},
		Meaning: "CleverTap accepted the delete; searching again until the subject is gone"},
	{Status: StatusDeleteAccepted, Types: deletionOnly, Terminal: true, Report: "submitted",
		Meaning: "CleverTap accepted the delete; counted as done without verification (--deletion-complete-on submit)"},
	{Status: StatusVerified, Types: deletionOnly, Terminal: true, Report: "verified",
		Next:    []Status{StatusReappeared}, // the second sweep (--resweep-after) found the person back
		Meaning: "searched again by email and user id after the delete: nothing left"},
	{Status: StatusReappeared, Types: deletionOnly, Terminal: true, Problem: true, Report: "reappeared",
		Meaning: "the deleted profile is gone but the person came back as a new profile"},
	{Status: StatusNotFound, Types: bothTypes, Terminal: true, Report: "not_found",
		Next:    []Status{StatusPending}, // `ctdsr reopen`, after a wrong configuration
		Meaning: "CleverTap held no profile for the email or user id"},
	{Status: StatusFailed, Types: bothTypes, Terminal: true, Problem: true, Report: "failed",
		Next:    []Status{StatusPending}, // `ctdsr reopen`
		Meaning: "given up after repeated or permanent errors; the detail says why"},
	{Status: StatusConflict, Types: bothTypes, Terminal: true, Problem: true, Report: "conflict", Discards: true,
		Meaning: "a profile found contradicts the row (email and user id lead to different people, or CleverTap answered with someone else): nothing was exported or deleted; hand the corrected row in under a new request id"},
}

var statusIndex = func() map[Status]*StatusInfo {
	m := make(map[Status]*StatusInfo, len(lifecycle))
	for i := range lifecycle {
		m[lifecycle[i].Status] = &lifecycle[i]
	}
	return m
}()

// Statuses returns the lifecycle table, in report order.
func Statuses() []StatusInfo { return slices.Clone(lifecycle) }

// Info returns the table row of s; false for a status the table lacks.
func (s Status) Info() (StatusInfo, bool) {
	i, ok := statusIndex[s]
	if !ok {
		return StatusInfo{}, false
	}
	return *i, true
}

// Terminal reports whether s ends a request.
func (s Status) Terminal() bool {
	i, ok := statusIndex[s]
	return ok && i.Terminal
}

// Problem reports whether a request in s needs a person to look at it.
func (s Status) Problem() bool {
	i, ok := statusIndex[s]
	return ok && i.Problem
}

// Discards reports whether entering s drops the request's exported data.
func (s Status) Discards() bool {
	i, ok := statusIndex[s]
	return ok && i.Discards
}

// Report returns the name reports show for s (s itself when unknown).
func (s Status) Report() string {
	if i, ok := statusIndex[s]; ok {
		return i.Report
	}
	return string(s)
}

// ValidFor reports whether a request of type t can be in status s.
func (s Status) ValidFor(t RequestType) bool {
	i, ok := statusIndex[s]
	return ok && slices.Contains(i.Types, t)
}

// TerminalStatuses lists every status that ends a request.
func TerminalStatuses() []Status {
	var out []Status
	for _, i := range lifecycle {
		if i.Terminal {
			out = append(out, i.Status)
		}
	}
	return out
}

// Errors the stores return for changes the lifecycle refuses; both the
// ledger and the test store wrap them, so callers use errors.Is.
var (
	// ErrTransition: a status change the lifecycle table does not allow,
	// or a write to a request that is already closed.
	ErrTransition = errors.New("status change not allowed")
	// ErrUnknownRequest: no request with the given ID is held.
	ErrUnknownRequest = errors.New("request not in the ledger")
	// ErrWrongType: an access-only write to a deletion, or the reverse.
	ErrWrongType = errors.New("request is of the other type")
	// ErrUnknownPart: a part of an event export that is not there to
	// write to or export: never begun, removed, another run's, already
	// exported (for an append), or of another request or event name.
	ErrUnknownPart = errors.New("no such pending part of an event export")
)

// CheckMove returns nil when a request of type t may move from status from
// to status to, else an error wrapping ErrTransition that says why.
func CheckMove(t RequestType, from, to Status) error {
	if !to.ValidFor(t) {
		return fmt.Errorf("%w: a %s request cannot be %q", ErrTransition, t, to)
	}
	fi, ok := statusIndex[from]
	if !ok {
		return fmt.Errorf("%w: unknown current status %q", ErrTransition, from)
	}
	if !slices.Contains(fi.Next, to) {
		return fmt.Errorf("%w: a %s request cannot move from %s to %s", ErrTransition, t, from, to)
	}
	return nil
}

// Reopenable lists the statuses `ctdsr reopen` can take a request out of:
// the terminal ones that may move back to pending.
func Reopenable() []Status {
	var out []Status
	for _, i := range lifecycle {
		if i.Terminal && slices.Contains(i.Next, StatusPending) {
			out = append(out, i.Status)
		}
	}
	return out
}

// CheckOpen returns nil when a request in status st can still be worked
// on, else an error wrapping ErrTransition.
func CheckOpen(st Status) error {
	if st.Terminal() {
		return fmt.Errorf("%w: the request is already %s", ErrTransition, st)
	}
	return nil
}
