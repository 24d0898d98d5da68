package report

import "time"

// The Parquet rows of a run's reports. Column names and types are the
// output contract documented in the README ("Outputs"); timestamps are
// TIMESTAMP(MICROS, UTC), lists are LIST, JSON payloads plain strings.

// RequestRow is one row of requests.parquet: one per request in the run's
// manifests or touched by the run.
type RequestRow struct {
	RequestID      string     `parquet:"request_id"`
	RequestType    string     `parquet:"request_type"`
	Email          string     `parquet:"email,optional"`
	UserID         string     `parquet:"user_id,optional"`
	Status         string     `parquet:"status"`
	Detail         string     `parquet:"detail,optional"`
	ProfilesFound  int32      `parquet:"profiles_found"`
	EventsExported int64      `parquet:"events_exported"`
	SubmittedAt    *time.Time `parquet:"submitted_at,optional,timestamp(microsecond)"`
	DueAt          *time.Time `parquet:"due_at,optional,timestamp(microsecond)"`
	CompletedAt    *time.Time `parquet:"completed_at,optional,timestamp(microsecond)"`
	// Late: completed after its due date, or still open past it.
	Late bool `parquet:"late"`
	// DaysOpen: whole days from submission (or, without one, from when the
	// ledger learnt of the request) to completion, or to the report's time
	// while open.
	DaysOpen int32 `parquet:"days_open"`
}

// ProfileRow is one row of access_profiles.parquet: one per (request,
// profile) of a finished access request.
type ProfileRow struct {
	RequestID        string    `parquet:"request_id"`
	MatchedBy        string    `parquet:"matched_by"`
	ObjectIDs        []string  `parquet:"object_ids,list"`
	Identity         string    `parquet:"identity,optional"`
	Email            string    `parquet:"email,optional"`
	Name             string    `parquet:"name,optional"`
	Phone            string    `parquet:"phone,optional"`
	ProfileDataJSON  string    `parquet:"profile_data_json"`
	EventSummaryJSON string    `parquet:"event_summary_json"`
	PlatformInfoJSON string    `parquet:"platform_info_json"`
	RetrievedAt      time.Time `parquet:"retrieved_at,timestamp(microsecond)"`
}

// EventRow is one row of access_events.parquet: one per (request, event).
type EventRow struct {
	RequestID        string    `parquet:"request_id"`
	ObjectID         string    `parquet:"object_id"`
	Identity         string    `parquet:"identity,optional"`
	Email            string    `parquet:"email,optional"`
	EventName        string    `parquet:"event_name"`
	EventTime        time.Time `parquet:"event_time,timestamp(microsecond)"`
	EventPropsJSON   string    `parquet:"event_props_json"`
	SessionPropsJSON string    `parquet:"session_props_json"`
}

// DeletionRow is one row of deletion_report.parquet: one per deletion
// request in the run.
type DeletionRow struct {
	RequestID         string     `parquet:"request_id"`
	Email             string     `parquet:"email,optional"`
	UserID            string     `parquet:"user_id,optional"`
	Status            string     `parquet:"status"`
	ObjectIDs         []string   `parquet:"object_ids,list"`
	DeleteRequestedAt *time.Time `parquet:"delete_requested_at,optional,timestamp(microsecond)"`
	VerifiedAt        *time.Time `parquet:"verified_at,optional,timestamp(microsecond)"`
	Checks            int32      `parquet:"checks"`
	LastCheckedAt     *time.Time `parquet:"last_checked_at,optional,timestamp(microsecond)"`
	Detail            string     `parquet:"detail,optional"`
}
