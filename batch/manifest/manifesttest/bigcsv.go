package manifesttest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"strconv"
)

// WriteBigCSV writes a compliance-team-style CSV manifest of n data rows to
// path, for benchmarks: odd header spellings, CRLF, alternating access and
// deletion rows; every 100th row has a bad email (rejected) and every
// 100th, offset by 50, repeats the row before it (merged).
func WriteBigCSV(path string, n int) error { return WriteBigCSVWith(path, n, BigCSV{}) }

// BigCSV varies the manifests WriteBigCSVWith writes.
type BigCSV struct {
	// UUIDs gives the requests UUID-like ids (as DSAR platforms and ticket
	// systems hand in) instead of sequential ones, so they reach the ledger
	// in random order.
	UUIDs bool
}

// requestID is row id's request id.
func (o BigCSV) requestID(id int) string {
	if !o.UUIDs {
		return fmt.Sprintf("REQ-%08d", id)
	}
	h := sha256.Sum256([]byte(strconv.Itoa(id)))
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// WriteBigCSVWith is WriteBigCSV with options.
func WriteBigCSVWith(path string, n int, o BigCSV) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("Ticket ID,Request,E-mail,Customer ID,Received At,Notes\r\n")
	types := [2]string{"access", "Right to be forgotten"}
	for i := range n {
		id := i
		if i%100 == 50 {
			id = i - 1
		}
		email := "user" + strconv.Itoa(id) + "@example.com"
		if i%100 == 99 {
			email = "user" + strconv.Itoa(id)
		}
		fmt.Fprintf(w, "%s,%s,%s,cust-%d,2026-01-05T09:00:00Z,\"note, with a comma\"\r\n", o.requestID(id), types[id%2], email, id)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ResetPeakRSS resets the process's peak resident set (VmHWM), so that
// PeakRSS measures what follows, not the set-up. Linux only.
func ResetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// PeakRSS returns the process's peak resident set in bytes (VmHWM), or 0
// where /proc is not available.
func PeakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			kb, _ := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(v), []byte(" kB"))), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
