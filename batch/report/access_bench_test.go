package report

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// Run on its own (see bench_test.go for what the figures mean):
//
//	go test -run '^$' -bench AccessPackage1M -benchtime 1x ./batch/report/

func BenchmarkAccessPackage1M(b *testing.B) {
	const n = 1_000_000
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	events := func(fn func(EventRow) error) error {
		for i := range n {
			err := fn(EventRow{RequestID: "R-1", ObjectID: "__g1a2b3c4d5e6f", Email: "subject@example.com",
				EventName: "Product Viewed", EventTime: base.Add(time.Duration(i) * time.Second),
				EventPropsJSON:   `{"product":"Blue shirt","price":29.9,"currency":"EUR","category":"apparel"}`,
				SessionPropsJSON: `{"session_id":` + strconv.Itoa(i/20) + `,"platform":"iOS"}`})
			if err != nil {
				return err
			}
		}
		return nil
	}
	zone := time.FixedZone("IST", 5*3600+1800)
	m := startMemWatch(b)
	var size int64
	for b.Loop() {
		path, _, err := WriteAccessPackage(b.TempDir(), AccessPackage{RequestID: "R-1", Retrieved: base, Zone: zone,
			Profiles: []ProfileRow{{RequestID: "R-1", MatchedBy: "email", ObjectIDs: []string{"__g1a2b3c4d5e6f"},
				ProfileDataJSON: `{"Name":"A"}`, EventSummaryJSON: `{}`, PlatformInfoJSON: `[]`, RetrievedAt: base}},
			Events: events})
		if err != nil {
			b.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		size = st.Size()
	}
	m.report(b)
	b.ReportMetric(float64(size)/(1<<20), "file-MiB")
}
