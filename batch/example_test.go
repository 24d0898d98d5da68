package batch_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/batch/batchtest"
	"github.com/ctdsr/ctdsr/clevertap"
	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// A run against the simulator: an access request, a deletion and a
// subject CleverTap does not know. The deletion is left pending: CleverTap
// deletes within 48 hours, and a later run verifies it.
func ExampleRunner_Run() {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 1, Profiles: 5})
	sim, err := ctsim.New(ds, ctsim.Options{})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	api, err := clevertap.NewClient(clevertap.WithBaseURL(srv.URL),
		clevertap.WithCredentials(ctsim.DemoAccountID, ctsim.DemoPasscode))
	if err != nil {
		log.Fatal(err)
	}
	store := batchtest.New(
		batch.Request{ID: "r1", Type: batch.Access, Email: strings.ToLower(ds.Profiles[0].Email)},
		batch.Request{ID: "r2", Type: batch.Deletion, Email: strings.ToLower(ds.Profiles[1].Email)},
		batch.Request{ID: "r3", Type: batch.Access, Email: "nobody@example.com"},
	)
	cfg := batch.DefaultConfig()
	cfg.VerifyWindow = 0 // leave verification to a later run
	// Exports give event times in the account's timezone; a run whose zone
	// the data contradicts stops before saving any event.
	if cfg.Location, err = time.LoadLocation(ds.Account.Timezone); err != nil {
		log.Fatal(err)
	}
	runner, err := batch.NewRunner(cfg, batch.Deps{RunID: "example", Store: store, API: api, Now: sim.Now})
	if err != nil {
		log.Fatal(err)
	}
	if err := runner.Run(context.Background()); err != nil {
		log.Fatal(err)
	}
	for _, rec := range store.All() {
		fmt.Println(rec.Request.ID, rec.Request.Type, rec.Status)
	}
	// Output:
	// r1 access done
	// r2 deletion delete_submitted
	// r3 access not_found
}
