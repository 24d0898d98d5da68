package report_test

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ctdsr/ctdsr/batch/report"
)

func ExampleWriteAccessPackage() {
	out, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(out)

	retrieved := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	events := []report.EventRow{
		{RequestID: "R-1", ObjectID: "__a1", EventName: "App Launched", EventTime: time.Date(2024, 2, 1, 9, 0, 0, 0, time.UTC),
			EventPropsJSON: `{"screen":"home"}`, SessionPropsJSON: `{}`},
	}
	path, counts, err := report.WriteAccessPackage(filepath.Join(out, report.PackagesDir), report.AccessPackage{
		RequestID: "R-1",
		Retrieved: retrieved,
		Zone:      time.FixedZone("IST", 5*3600+1800), // the CleverTap account's zone
		Profiles: []report.ProfileRow{{RequestID: "R-1", MatchedBy: "email", ObjectIDs: []string{"__a1"},
			ProfileDataJSON: `{"Name":"Ana"}`, EventSummaryJSON: `{}`, PlatformInfoJSON: `[]`, RetrievedAt: retrieved}},
		// Called once per events file; a ledger query would stream here.
		Events: func(fn func(report.EventRow) error) error {
			for _, e := range events {
				if err := fn(e); err != nil {
					return err
				}
			}
			return nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(filepath.Base(path), counts.Profiles, counts.Events)

	zr, err := zip.OpenReader(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer zr.Close()
	for _, f := range zr.File {
		fmt.Println(f.Name)
		if f.Name == report.EventsCSVFile {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			fmt.Print(strings.TrimPrefix(string(b), "\uFEFF"))
		}
	}
	// Output:
	// R-1.zip 1 1
	// profile.json
	// events.csv
	// time_utc,time_local,event,object_id,identity,email,event_props,session_props
	// 2024-02-01T09:00:00Z,2024-02-01T14:30:00+05:30,App Launched,__a1,,,"{""screen"":""home""}",{}
	// events.json
	// README.txt
}

func ExamplePackageName() {
	for _, id := range []string{"R-1001", "../../etc/passwd", ".hidden", "CON", "Zoë"} {
		fmt.Println(report.PackageName(id))
	}
	// Output:
	// R-1001.zip
	// %2E%2E%2F%2E%2E%2Fetc%2Fpasswd.zip
	// %2Ehidden.zip
	// %43ON.zip
	// Zo%C3%AB.zip
}
