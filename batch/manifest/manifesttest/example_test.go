package manifesttest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ctdsr/ctdsr/batch/manifest"
	"github.com/ctdsr/ctdsr/batch/manifest/manifesttest"
)

func ExampleWriteXLSX() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "requests.xlsx")
	err := manifesttest.WriteXLSX(path, manifesttest.Workbook{Sheets: []manifesttest.Sheet{{
		Name: "Requests",
		Rows: [][]any{
			{"Ticket", "Action", "E-mail"},
			nil, // an empty row
			{"T-1", "Erasure", "ann@example.com"},
		},
	}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = manifest.Read(context.Background(), path, manifest.Options{}, func(r manifest.Row) error {
		fmt.Println(r.Source.Row, r.Request.ID, r.Request.Type, r.Request.Email)
		return nil
	})
	fmt.Println(err)
	// Output:
	// 3 T-1 deletion ann@example.com
	// <nil>
}

func ExampleWriteParquet() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "requests.parquet")
	cols := []manifesttest.Column{
		{Name: "request_id", Node: manifesttest.String},
		{Name: "request_type", Node: manifesttest.String},
		{Name: "user_id", Node: manifesttest.Int64},
	}
	if err := manifesttest.WriteParquet(path, cols, [][]any{{"P-1", "access", 42}}, 0); err != nil {
		fmt.Println(err)
		return
	}
	_, err := manifest.Read(context.Background(), path, manifest.Options{}, func(r manifest.Row) error {
		fmt.Println(r.Source.Row, r.Request.ID, r.Request.Type, r.Request.UserID)
		return nil
	})
	fmt.Println(err)
	// Output:
	// 2 P-1 access 42
	// <nil>
}
