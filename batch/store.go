package batch

import (
	"context"
	"time"
)

// Store is what a run needs of the checkpoint ledger. Every method is one
// durable transaction: when it returns nil the change survives a crash, so a
// state change is committed before the work depending on it is reported done.
// Every method that takes a runID also records that the run touched the
// request, so the run's reports include it.
type Store interface {
	// OpenWork returns up to limit open requests of type kind (of every
	// type when kind is "") after cursor, with what earlier runs found for
	// them, in the order a run works them: by due date, the oldest first
	// (no due date last), then by Work.Seq, about the order they were
	// loaded; and the cursor of the last one. A run reads the ledger a page
	// at a time, one stream of pages per type, so that it can keep both
	// kinds of work going whatever order they were loaded in.
	OpenWork(ctx context.Context, kind RequestType, after WorkCursor, limit int) ([]Work, WorkCursor, error)

	// CountOpen counts the open requests of type kind, or of every type
	// when kind is "".
	CountOpen(ctx context.Context, kind RequestType) (int, error)

	// SaveProfiles replaces the access bundle's profiles of a request.
	SaveProfiles(ctx context.Context, runID, requestID string, profiles []FoundProfile) error

	// BeginEvents starts a part of the export of one (request, event
	// name), to be written page by page. Until FinishEvents exports the
	// name with it, a part is pending: OpenWork and the reports do not see
	// it, and it takes appends only from the run that began it. Pending
	// parts another run left for the same name (an interrupted export)
	// are removed first, so exporting a name again never duplicates.
	BeginEvents(ctx context.Context, runID, requestID, eventName string) (PartID, error)

	// AppendEvents adds each page's events to its part, all in one
	// transaction. Every part must be pending and begun by this run, else
	// nothing is added and the error matches ErrUnknownPart. It keeps no
	// reference to the slices.
	AppendEvents(ctx context.Context, runID string, pages []EventPage) error

	// FinishEvents exports each name as the union of its parts (see
	// EventExport), all in one transaction: a name is wholly exported or
	// not at all, and when one export is refused none is made. It records
	// the name done with the count it now holds, which it returns per
	// export, and removes the parts the name was exported with before and
	// no longer is, and the pending parts other runs left for it. A part
	// must be of the export's request and name, and pending (this run's)
	// or already exported, else the error matches ErrUnknownPart.
	FinishEvents(ctx context.Context, runID string, exports []EventExport) ([]int64, error)

	// DropEvents removes pending parts this run began, with their events:
	// an export that failed, or was replaced before it was finished.
	// Exported parts, other runs' parts and unknown ones are left alone.
	// A request that closes loses its pending parts anyway.
	DropEvents(ctx context.Context, runID string, parts []PartID) error

	// SetStatus moves a request to st with a human-readable detail. A
	// terminal status sets completed_at to at.
	SetStatus(ctx context.Context, runID, requestID string, st Status, detail string, at time.Time) error

	// RecordFailure counts a failed attempt at a request and keeps the error's
	// class and message; with f.GiveUp the request becomes StatusFailed.
	RecordFailure(ctx context.Context, runID, requestID string, f Failure) error

	// PlanDeletion records the ids a deletion will send, before sending.
	PlanDeletion(ctx context.Context, runID, requestID string, plan DeletionPlan) error

	// MarkDeleteSubmitted records that CleverTap accepted every id of these
	// requests at time at; they move to StatusDeleteSubmitted with their
	// first verification due at next.
	MarkDeleteSubmitted(ctx context.Context, runID string, requestIDs []string, at, next time.Time) error

	// RecordCheck records one verification search of a deletion and, when
	// c.Status differs from StatusDeleteSubmitted, its outcome.
	RecordCheck(ctx context.Context, runID, requestID string, c Check) error

	// ResweepDue returns up to limit verified deletions, verified at or
	// before verifiedBefore and never swept again, the oldest first. A
	// store that purges personal data leaves purged requests out: they
	// have nothing left to look up.
	ResweepDue(ctx context.Context, verifiedBefore time.Time, limit int) ([]Work, error)

	// RecordResweep records the second sweep of a verified deletion: with
	// r.Back the request becomes StatusReappeared with r.Detail.
	RecordResweep(ctx context.Context, runID, requestID string, r Resweep) error
}

// Resweep is the second sweep of a verified deletion.
type Resweep struct {
	At     time.Time
	Back   bool   // a profile with the subject's email or user id exists again
	Detail string // evidence: the new objectIds and when they were first seen
}

// WorkCursor is a position in the order OpenWork returns requests in; the
// zero value is the start.
type WorkCursor struct {
	DueAt time.Time // zero for a request without a due date
	Seq   int64     // the Work.Seq of the last request returned
	Past  bool      // past every request with a due date
}

// CursorOf is the position of w.
func CursorOf(w Work) WorkCursor {
	return WorkCursor{DueAt: w.DueAt, Seq: w.Seq, Past: w.DueAt.IsZero()}
}

// Before reports whether w comes before c in OpenWork's order, for stores
// that sort in memory.
func (c WorkCursor) Before(w Work) bool {
	wc := CursorOf(w)
	switch {
	case c.Seq == 0 && !c.Past:
		return true // the start comes before everything
	case c.Past != wc.Past:
		return !c.Past
	case !c.Past && !c.DueAt.Equal(wc.DueAt):
		return c.DueAt.Before(wc.DueAt)
	}
	return c.Seq < wc.Seq
}

// Work is one open request and what earlier runs found for it.
type Work struct {
	Request
	Status   Status
	Attempts int
	// Seq is the request's key in the store, from 1: requests are numbered
	// as they are loaded (the ledger numbers each buffer of 10,000 rows in
	// request-id order). OpenWork's order within a due date.
	Seq int64

	// DoneEventNames holds the access event names already exported, with
	// the number of events kept for each.
	DoneEventNames map[string]int64

	// Plan is the deletion's ids, nil until PlanDeletion was recorded.
	Plan *DeletionPlan
	// Deletion verification progress; zero until the delete was accepted.
	DeleteRequestedAt time.Time
	Checks            int
	LastCheckedAt     time.Time
	NextCheckAt       time.Time
}

// MatchedBy says which lookup found a profile.
type MatchedBy string

// The ways a profile can be found.
const (
	MatchedByEmail    MatchedBy = "email"
	MatchedByIdentity MatchedBy = "identity"
	MatchedByBoth     MatchedBy = "both"
)

// FoundProfile is one CleverTap profile of a subject, flattened for the
// ledger and the access bundle. JSON fields hold the payload as received.
type FoundProfile struct {
	MatchedBy        MatchedBy
	ObjectIDs        []string
	Identity         string
	Email            string
	Name             string
	Phone            string
	ProfileDataJSON  string
	EventSummaryJSON string
	PlatformInfoJSON string
	RetrievedAt      time.Time
}

// Event is one event of a subject, as exported.
type Event struct {
	ObjectID         string
	Identity         string
	Email            string
	EventName        string
	Time             time.Time
	EventPropsJSON   string
	SessionPropsJSON string
}

// PartID names a part of an event export in the store; zero is no part.
type PartID int64

// EventPage is a page of events to append to a part. Every event has the
// part's event name.
type EventPage struct {
	Part   PartID
	Events []Event
}

// EventExport is the complete export of one event name for one request,
// made of parts written earlier, the oldest first: each part's events
// replace, in the earlier parts, the events from its From up to (not
// including) its To, the days a later scan examined again. A part whose
// From is not before its To replaces nothing; one with ID zero holds no
// events, and only replaces. Expected is the count the profile summaries
// announced.
type EventExport struct {
	RequestID string
	EventName string
	Expected  int64
	Parts     []EventPart
}

// EventPart is one part of an EventExport and the time range it replaces.
type EventPart struct {
	ID       PartID
	From, To time.Time
}

// Failure is one failed attempt at a request.
type Failure struct {
	Class   string // "transient", "rate_limited", "invalid", "server", …
	Message string // never contains personal data
	GiveUp  bool
}

// DeletionPlan is what a deletion sends to CleverTap: every objectId
// (guid) found and every identity known.
type DeletionPlan struct {
	ObjectIDs  []string
	Identities []string
	Profiles   int    // profiles found, for the report
	Notes      string // what the report must say besides the status (contradictions kept with --on-conflict union)
}

// Check is one verification search after a delete.
type Check struct {
	At     time.Time
	Status Status    // StatusDeleteSubmitted while the profile is still there
	Next   time.Time // when to search again, if still pending
	Detail string    // evidence: which objectIds were still found, etc.
}
