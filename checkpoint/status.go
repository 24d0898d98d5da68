package checkpoint

import (
	"fmt"
	"strings"

	"github.com/ctdsr/ctdsr/batch"
)

// statusesByType lists the statuses a request of each type may reach.
var statusesByType = map[batch.RequestType][]batch.Status{
	batch.Access: {batch.StatusPending, batch.StatusNotFound, batch.StatusFailed, batch.StatusDone},
	batch.Deletion: {batch.StatusPending, batch.StatusNotFound, batch.StatusFailed,
		batch.StatusDeleteSubmitted, batch.StatusVerified, batch.StatusReappeared},
}

// checkStatus refuses a status the request's type cannot reach.
func checkStatus(t batch.RequestType, st batch.Status) error {
	for _, s := range statusesByType[t] {
		if s == st {
			return nil
		}
	}
	return fmt.Errorf("status %q is not one a %s request can reach", st, t)
}

// terminalSQL is the SQL list of statuses that end a request of either
// type (an accepted delete is not one of them: it still needs verifying).
var terminalSQL = func() string {
	seen := map[batch.Status]bool{}
	var quoted []string
	for _, t := range []batch.RequestType{batch.Access, batch.Deletion} {
		for _, s := range statusesByType[t] {
			if s.Terminal(t, false) && !seen[s] {
				seen[s] = true
				quoted = append(quoted, "'"+string(s)+"'")
			}
		}
	}
	return "(" + strings.Join(quoted, ", ") + ")"
}()

// openSQL selects the requests still open: not in a terminal status, and
// not an accepted delete that a run with --deletion-complete-on submit
// closed (SetStatus gave it a completion time).
var openSQL = "(state NOT IN " + terminalSQL + " AND NOT (state = '" + string(batch.StatusDeleteSubmitted) +
	"' AND completed_at IS NOT NULL))"
