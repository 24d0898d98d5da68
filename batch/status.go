package batch

// Status is where a request stands. Terminal statuses end a request; the
// others are picked up again by the next run.
type Status string

// Statuses shared by both request types.
const (
	StatusPending  Status = "pending"   // accepted, no work finished yet
	StatusNotFound Status = "not_found" // CleverTap held no profile for the subject
	StatusFailed   Status = "failed"    // gave up; Detail says why
)

// Access statuses.
const (
	StatusDone Status = "done" // bundle extracted
)

// Deletion statuses.
const (
	StatusDeleteSubmitted Status = "delete_submitted" // CleverTap accepted the delete; verifying
	StatusVerified        Status = "verified"         // searched again and gone
	StatusReappeared      Status = "reappeared"       // gone, but the person came back as a new profile
)

// Terminal reports whether s ends a request of type t. With
// completeOnSubmit, an accepted delete counts as done.
func (s Status) Terminal(t RequestType, completeOnSubmit bool) bool {
	switch s {
	case StatusNotFound, StatusFailed, StatusDone, StatusVerified, StatusReappeared:
		return true
	case StatusDeleteSubmitted:
		return t == Deletion && completeOnSubmit
	}
	return false
}
