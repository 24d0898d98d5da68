package checkpoint

import (
	"strings"

	"github.com/ctdsr/ctdsr/batch"
)

// The ledger keeps no list of statuses of its own: which statuses exist,
// which end a request and which moves are allowed come from batch's
// lifecycle table (batch.Statuses, batch.CheckMove). Adding a status is a
// row there, and a migration here only when existing rows must change.

// openSQL selects the requests still open: those not in a terminal status.
var openSQL = func() string {
	var quoted []string
	for _, s := range batch.TerminalStatuses() {
		quoted = append(quoted, "'"+string(s)+"'")
	}
	return "(state NOT IN (" + strings.Join(quoted, ", ") + "))"
}()
