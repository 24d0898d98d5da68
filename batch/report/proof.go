package report

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// FileDigest is one file of an output directory as summary.json lists it:
// an auditor can check that the reports are the ones the run wrote.
type FileDigest struct {
	Name   string `json:"name"` // relative to the directory, with forward slashes
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Digest returns the size and SHA-256 of each named file of dir.
func Digest(dir string, names []string) ([]FileDigest, error) {
	out := make([]FileDigest, 0, len(names))
	for _, name := range names {
		d, err := digestFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return nil, err
		}
		d.Name = name
		out = append(out, d)
	}
	return out, nil
}

func digestFile(path string) (FileDigest, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileDigest{}, fmt.Errorf("digest: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return FileDigest{}, fmt.Errorf("digest %s: %w", path, err)
	}
	return FileDigest{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// Verify checks the files of dir against their digests and returns one
// line per file that is missing or differs; none means all match.
func Verify(dir string, files []FileDigest) []string {
	var problems []string
	for _, want := range files {
		got, err := digestFile(filepath.Join(dir, filepath.FromSlash(want.Name)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			problems = append(problems, want.Name+": missing")
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: %v", want.Name, err))
		case want.Size >= 0 && got.Size != want.Size:
			problems = append(problems, fmt.Sprintf("%s: %d bytes, summary says %d", want.Name, got.Size, want.Size))
		case got.SHA256 != want.SHA256:
			problems = append(problems, fmt.Sprintf("%s: SHA-256 %s, summary says %s", want.Name, got.SHA256, want.SHA256))
		}
	}
	return problems
}

// SHA256File returns the hex SHA-256 of the file at path.
func SHA256File(path string) (string, error) {
	d, err := digestFile(path)
	return d.SHA256, err
}
