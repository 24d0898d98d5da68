package manifest

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
)

// TestColumnDefs checks the declaration itself: every column can be
// stored, named in a reason, and no header spelling means two columns.
func TestColumnDefs(t *testing.T) {
	seen := map[string]string{}
	for idx, d := range columnDefs {
		if d.name == "" || d.label == "" || d.set == nil {
			t.Errorf("columnDefs[%d] = %+v; want a name, a label and a set function", idx, d)
		}
		for _, a := range append([]string{d.name}, d.aliases...) {
			k := headerKey(a)
			if other, ok := seen[k]; ok && other != d.name {
				t.Errorf("header %q means both %s and %s", a, other, d.name)
			}
			seen[k] = d.name
			if got := aliases[k]; got != idx {
				t.Errorf("aliases[%q] = %d, want %d (%s)", k, got, idx, d.name)
			}
		}
	}
	if lastContact < 0 || columnDefs[lastContact].need != needContact {
		t.Errorf("lastContact = %d; want the index of the last contact column", lastContact)
	}
}

// TestColumnDefsSet checks that each column's set stores its value where
// the request carries it.
func TestColumnDefsSet(t *testing.T) {
	day := time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)
	values := [numColumns]value{
		idxRequestID: {text: "R-1"}, idxRequestType: {text: "erasure"}, idxEmail: {text: "a@x.io"},
		idxUserID: {text: "u-1"}, idxSubmittedAt: {date: day}, idxDueAt: {date: day.AddDate(0, 0, 1)},
	}
	var got batch.Request
	for idx, d := range columnDefs {
		if err := d.set(&got, values[idx]); err != nil {
			t.Fatalf("%s: set(%+v) = %v", d.name, values[idx], err)
		}
	}
	want := batch.Request{ID: "R-1", Type: batch.Deletion, Email: "a@x.io", UserID: "u-1",
		SubmittedAt: day, DueAt: day.AddDate(0, 0, 1)}
	if got != want {
		t.Errorf("request = %+v\nwant %+v", got, want)
	}
}

// TestDocListsColumns keeps the package doc's column list in step with
// columnDefs, as the "Adding a column" checklist promises.
func TestDocListsColumns(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, d := range columnDefs {
		line := fmt.Sprintf("//\t%-14s%s", d.name, strings.Join(d.aliases, ", "))
		if d.need == needOptional {
			line += " (optional)"
		}
		b.WriteString(line + "\n")
	}
	if !strings.Contains(string(doc), b.String()) {
		t.Errorf("doc.go does not list the columns as declared; want:\n%s", b.String())
	}
}
