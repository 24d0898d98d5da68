package clevertap_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/ctdsr/ctdsr/clevertap"
	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// A data-subject lookup and event export against the simulator, served
// over real HTTP.
func Example() {
	sim, err := ctsim.New(&ctsim.Dataset{
		Account: ctsim.Account{ID: "ACC-1", Passcodes: []string{"pc-1"}},
		Profiles: []ctsim.Profile{{
			Identity: "u-42", Email: "ada@example.com", Name: "Ada",
			Devices: []ctsim.Device{{ObjectID: "__g42", Platform: "Android"}},
		}},
		Events: []ctsim.Event{
			{ObjectID: "__g42", Name: "Charged", Time: time.Date(2026, 1, 10, 9, 30, 0, 0, time.UTC)},
			{ObjectID: "__g42", Name: "Charged", Time: time.Date(2026, 1, 11, 18, 5, 0, 0, time.UTC)},
		},
	}, ctsim.Options{})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()

	c, err := clevertap.NewClient(
		clevertap.WithBaseURL(srv.URL),
		clevertap.WithCredentials("ACC-1", "pc-1"),
	)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	p, err := c.Profile(ctx, clevertap.ByEmail, "ada@example.com")
	if err != nil {
		log.Fatal(err)
	}
	sum := p.Events["Charged"]
	fmt.Println(p.Identity, p.ObjectIDs(), sum.Count, clevertap.DateOf(sum.FirstSeen, nil), clevertap.DateOf(sum.LastSeen, nil))

	q := clevertap.EventQuery{
		EventName: "Charged",
		From:      clevertap.DateOf(sum.FirstSeen, nil),
		To:        clevertap.DateOf(sum.LastSeen, nil),
	}
	for page, err := range c.Events(ctx, q) {
		if err != nil {
			log.Fatal(err)
		}
		for _, r := range page {
			fmt.Println(r.ObjectID, r.Time.Format(time.RFC3339))
		}
	}

	_, err = c.Profile(ctx, clevertap.ByEmail, "nobody@example.com")
	fmt.Println(errors.Is(err, clevertap.ErrNotFound))
	// Output:
	// u-42 [__g42] 2 2026-01-10 2026-01-11
	// __g42 2026-01-10T09:30:00Z
	// __g42 2026-01-11T18:05:00Z
	// true
}

func ExamplePasscode() {
	p := clevertap.Passcode("s3cr3t")
	fmt.Println(p)
	fmt.Printf("%#v %q\n", p, p)
	// Output:
	// [REDACTED]
	// [REDACTED] [REDACTED]
}

func ExampleQuota() {
	q := clevertap.DefaultQuota()
	q.RPS = 10
	fmt.Println(q.Validate(), q.PerGroup(), q.PerSecond())
	fmt.Println(clevertap.Quota{Concurrency: 3, Share: 1}.PerGroup())
	fmt.Println(clevertap.Quota{Concurrency: 1, Share: 0.5}.PerGroup())
	fmt.Println(clevertap.Quota{Concurrency: 3, Share: 0, RPS: 5}.Validate())
	// Output:
	// <nil> 2 7.5
	// 3
	// 1
	// clevertap: quota share 0 is outside (0, 1]
}

func ExampleDateOf() {
	t := time.Date(2026, 1, 14, 20, 0, 0, 0, time.UTC)
	fmt.Println(int(clevertap.DateOf(t, time.UTC)))
	fmt.Println(clevertap.DateOf(t, time.FixedZone("IST", 5*3600+1800)))
	// Output:
	// 20260114
	// 2026-01-15
}

func ExampleAPIError() {
	err := error(&clevertap.APIError{Op: "delete", HTTPStatus: 429, Code: 429, Message: "Too many concurrent requests"})
	var api *clevertap.APIError
	fmt.Println(errors.As(err, &api), api.HTTPStatus, errors.Is(err, clevertap.ErrRateLimited))
	fmt.Println(err)
	// Output:
	// true 429 true
	// clevertap: delete: HTTP 429: Too many concurrent requests
}
