package report

import (
	"archive/zip"
	"encoding/xml"
	"io"
	"io/fs"
	"os"
	"path"
	"testing"

	"github.com/xuri/excelize/v2"
)

// mustCreateWorkbook starts a workbook in a fresh directory; rowLimit > 0
// lowers the rows a sheet holds.
func mustCreateWorkbook(tb testing.TB, rowLimit int) (*Workbook, string) {
	tb.Helper()
	p := join(tb.TempDir(), WorkbookFile)
	w, err := CreateWorkbook(p)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { w.Abort() })
	if rowLimit > 0 {
		w.rowLimit = rowLimit
	}
	return w, p
}

// mustOpenXLSX opens a written workbook with excelize's reader.
func mustOpenXLSX(tb testing.TB, p string) *excelize.File {
	tb.Helper()
	f, err := excelize.OpenFile(p)
	if err != nil {
		tb.Fatalf("open %s: %v", p, err)
	}
	tb.Cleanup(func() { f.Close() })
	return f
}

// rawWorksheet is what the tests read of a worksheet's XML, independently
// of excelize.
type rawWorksheet struct {
	AutoFilter *struct {
		Ref string `xml:"ref,attr"`
	} `xml:"autoFilter"`
	Cells []struct {
		R string `xml:"r,attr"`
		T string `xml:"t,attr"`
		F *struct {
			Text string `xml:",chardata"`
		} `xml:"f"`
	} `xml:"sheetData>row>c"`
}

// readWorksheet finds sheet's part through the workbook and its
// relationships, with archive/zip and encoding/xml only.
func readWorksheet(tb testing.TB, p, sheet string) rawWorksheet {
	tb.Helper()
	zr, err := zip.OpenReader(p)
	if err != nil {
		tb.Fatal(err)
	}
	defer zr.Close()
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	decodeZipXML(tb, zr, "xl/workbook.xml", &wb)
	decodeZipXML(tb, zr, "xl/_rels/workbook.xml.rels", &rels)
	for _, s := range wb.Sheets {
		if s.Name != sheet {
			continue
		}
		for _, r := range rels.Rels {
			if r.ID == s.RID {
				var ws rawWorksheet
				decodeZipXML(tb, zr, path.Join("xl", r.Target), &ws)
				return ws
			}
		}
	}
	tb.Fatalf("%s: no sheet %q", p, sheet)
	return rawWorksheet{}
}

func decodeZipXML(tb testing.TB, zr *zip.ReadCloser, name string, v any) {
	tb.Helper()
	f, err := zr.Open(name)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	defer f.Close()
	if err := xml.NewDecoder(f).Decode(v); err != nil && err != io.EOF {
		tb.Fatalf("%s: %v", name, err)
	}
}

// fileMode is the permission bits of p.
func fileMode(tb testing.TB, p string) fs.FileMode {
	tb.Helper()
	st, err := os.Stat(p)
	if err != nil {
		tb.Fatal(err)
	}
	return st.Mode().Perm()
}
