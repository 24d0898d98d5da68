package report_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/parquet-go/parquet-go"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/batch/report"
)

func ExampleWriteRejects() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, report.RejectsFile)

	rows := []report.RejectRow{
		report.RejectRowOf(batch.Reject{SourceFile: "requests.csv", SourceRow: 4, RequestID: "R-4",
			Column: "email", Reason: "not a valid email address: no @"}),
	}
	if err := report.WriteRejects(path, rows); err != nil {
		fmt.Println(err)
		return
	}

	back, err := parquet.ReadFile[report.RejectRow](path)
	fmt.Println(len(back), back[0].SourceFile, back[0].SourceRow, back[0].Column, err)
	// Output:
	// 1 requests.csv 4 email <nil>
}

func ExampleCreate() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	w, err := report.Create[report.RejectRow](filepath.Join(dir, "rejects.parquet"), report.MaxRowsPerRowGroup(50_000))
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range 3 {
		if err := w.Write(report.RejectRow{SourceFile: "m.csv", SourceRow: int64(i + 2), Reason: "missing request id"}); err != nil {
			w.Abort()
			fmt.Println(err)
			return
		}
	}
	fmt.Println(w.Rows(), w.Close())
	// Output:
	// 3 <nil>
}
