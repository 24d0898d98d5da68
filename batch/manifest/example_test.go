package manifest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/ctdsr/ctdsr/batch/manifest"
)

func ExampleRead() {
	dedup := manifest.NewDeduper() // share it across every manifest of a run
	opts := manifest.Options{Dedup: dedup}
	info, err := manifest.Read(context.Background(), "../../testdata/manifests/semicolon.csv", opts,
		func(row manifest.Row) error {
			switch {
			case row.Reject != nil:
				fmt.Printf("row %d: rejected: %s: %s\n", row.Source.Row, row.Reject.Column, row.Reject.Reason)
			case row.Duplicate != nil:
				fmt.Printf("row %d: same as row %d\n", row.Source.Row, row.Duplicate.Row)
			default:
				fmt.Printf("row %d: %s %s due %s\n", row.Source.Row, row.Request.ID, row.Request.Type,
					row.Request.DueAt.Format("2006-01-02"))
			}
			return nil
		})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %d rows, %d accepted, %d rejected\n", info.Format, info.Rows, info.Accepted, info.Rejected)
	// Output:
	// row 2: C-1 access due 2024-05-02
	// row 3: rejected: email: not a valid email address: contains spaces, quotes, brackets or a list separator
	// row 4: rejected: request_type: unknown request type "Löschung"; use access or deletion
	// row 5: C-4 deletion due 2024-04-20
	// row 6: rejected: submitted_at: cannot read "03.04.2024" as a date; use YYYY-MM-DD or ISO 8601 such as 2024-01-31T09:00:00Z
	// csv: 5 rows, 2 accepted, 3 rejected
}

func ExampleFileError() {
	_, err := manifest.Read(context.Background(), "../../testdata/manifests/unreadable/missing-column.csv",
		manifest.Options{}, func(manifest.Row) error { return nil })
	var fe *manifest.FileError
	if errors.As(err, &fe) {
		fmt.Println("unreadable (exit 2):", fe.Row, errors.Is(err, manifest.ErrMissingColumn))
		fmt.Println(err)
	}
	// Output:
	// unreadable (exit 2): 1 true
	// ../../testdata/manifests/unreadable/missing-column.csv: row 1: missing required column request_type (found: "Ticket", "E-mail", "Notes")
}
