package batch

import (
	"context"
	"iter"

	"github.com/ctdsr/ctdsr/clevertap"
)

// CleverTap is what a run needs of the CleverTap API. *clevertap.Client
// satisfies it; tests may substitute a fake.
type CleverTap interface {
	Profile(ctx context.Context, by clevertap.LookupKey, value string) (*clevertap.Profile, error)
	Events(ctx context.Context, q clevertap.EventQuery) iter.Seq2[[]clevertap.EventRecord, error]
	Delete(ctx context.Context, d clevertap.DeleteRequest) error
}
