package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// The container image cannot be built on the development machines or in CI
// (no Docker engine runs there), so these tests check what can be checked
// without one: the Dockerfile's own `go build` command, run here, makes a
// statically linked binary; it agrees with the Makefile's build target; and
// .dockerignore keeps every file that command needs.

const repoRoot = "../.."

// goTool returns the go command running these tests.
func goTool(tb testing.TB) string {
	tb.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// logicalLines returns the lines of a Dockerfile or Makefile with
// backslash continuations joined and comment lines dropped.
func logicalLines(tb testing.TB, path string) []string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var lines []string
	var cur strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if s, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(line)
		lines = append(lines, cur.String())
		cur.Reset()
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

// shellWords splits a simple command line into words: blanks separate
// words, single and double quotes group them. Anything fancier (pipes,
// several commands, substitutions) is refused so that the tests never
// misread a command.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case strings.ContainsRune(";&|`<>()", r):
			return nil, fmt.Errorf("%q: only a single simple command is understood here", s)
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("%q: unterminated quote", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// goBuild is a parsed `go build` command line.
type goBuild struct {
	env      map[string]string // VAR=value words before the command
	bools    []string          // flags without a value, e.g. -trimpath
	values   map[string]string // flags with a value, e.g. -o, -ldflags
	packages []string
}

// goBuildValueFlags are the go build flags that take a value.
var goBuildValueFlags = []string{"-o", "-ldflags", "-gcflags", "-asmflags", "-tags", "-mod", "-p", "-pgo", "-buildmode", "-modfile", "-overlay", "-buildvcs"}

func parseGoBuild(words []string) (goBuild, error) {
	b := goBuild{env: map[string]string{}, values: map[string]string{}}
	i := 0
	for ; i < len(words) && strings.Contains(words[i], "=") && !strings.HasPrefix(words[i], "-"); i++ {
		k, v, _ := strings.Cut(words[i], "=")
		b.env[k] = v
	}
	if i+1 >= len(words) || words[i] != "go" || words[i+1] != "build" {
		return b, fmt.Errorf("%q is not a `go build` command", strings.Join(words, " "))
	}
	for i += 2; i < len(words); i++ {
		w := words[i]
		switch {
		case !strings.HasPrefix(w, "-"):
			b.packages = append(b.packages, w)
		case strings.Contains(w, "="):
			k, v, _ := strings.Cut(w, "=")
			b.values[strings.Replace(k, "--", "-", 1)] = v
		case slices.Contains(goBuildValueFlags, strings.Replace(w, "--", "-", 1)):
			if i+1 >= len(words) {
				return b, fmt.Errorf("%s has no value", w)
			}
			b.values[strings.Replace(w, "--", "-", 1)] = words[i+1]
			i++
		default:
			b.bools = append(b.bools, strings.Replace(w, "--", "-", 1))
		}
	}
	return b, nil
}

// dockerfileBuild returns the `go build` of the Dockerfile's RUN line.
func dockerfileBuild(tb testing.TB) goBuild {
	tb.Helper()
	var found []goBuild
	for _, line := range logicalLines(tb, filepath.Join(repoRoot, "Dockerfile")) {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "RUN ")
		if !ok || !strings.Contains(rest, "go build") {
			continue
		}
		words, err := shellWords(rest)
		if err != nil {
			tb.Fatalf("Dockerfile: %v", err)
		}
		for len(words) > 0 && strings.HasPrefix(words[0], "--") { // RUN options: --mount=...
			words = words[1:]
		}
		b, err := parseGoBuild(words)
		if err != nil {
			tb.Fatalf("Dockerfile: %v", err)
		}
		found = append(found, b)
	}
	if len(found) != 1 {
		tb.Fatalf("Dockerfile has %d RUN lines with `go build`, want 1", len(found))
	}
	return found[0]
}

// makefileBuild returns the `go build` of the Makefile's build target, with
// $(GO), $(BIN) and $(LDFLAGS) expanded.
func makefileBuild(tb testing.TB) goBuild {
	tb.Helper()
	lines := logicalLines(tb, filepath.Join(repoRoot, "Makefile"))
	vars := map[string]string{}
	assign := regexp.MustCompile(`^([A-Z_]+)\s*[:?]?=\s*(.*)$`)
	for _, l := range lines {
		if m := assign.FindStringSubmatch(l); m != nil {
			vars[m[1]] = strings.TrimSpace(m[2])
		}
	}
	vars["GO"] = "go" // `GO ?= go`: the go command, whatever a user sets it to
	expand := func(s string) string {
		for range 3 { // LDFLAGS refers to VERSION, which stays a placeholder
			for k, v := range vars {
				if k != "VERSION" {
					s = strings.ReplaceAll(s, "$("+k+")", v)
				}
			}
		}
		return s
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, "build:") {
			continue
		}
		if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "\t") {
			tb.Fatal("Makefile: the build target has no recipe line")
		}
		words, err := shellWords(strings.TrimSpace(expand(lines[i+1])))
		if err != nil {
			tb.Fatalf("Makefile: %v", err)
		}
		b, err := parseGoBuild(words)
		if err != nil {
			tb.Fatalf("Makefile: %v", err)
		}
		return b
	}
	tb.Fatal("Makefile has no build target")
	return goBuild{}
}

// versionPlaceholder turns the build's version variable, as make or the
// Dockerfile spells it, into one word.
var versionPlaceholder = regexp.MustCompile(`\$[({]VERSION[)}]`)

// The Dockerfile builds what `make build` builds, plus exactly what a
// container needs: no cgo, and no symbol tables (-s -w).
func TestDockerfileAgreesWithMakefile(t *testing.T) {
	docker, mk := dockerfileBuild(t), makefileBuild(t)
	if got := docker.env["CGO_ENABLED"]; got != "0" {
		t.Errorf("Dockerfile builds with CGO_ENABLED=%q, want 0 (a static binary for the distroless base)", got)
	}
	if !slices.Equal(docker.packages, mk.packages) {
		t.Errorf("Dockerfile builds %v, Makefile %v", docker.packages, mk.packages)
	}
	for _, f := range mk.bools {
		if !slices.Contains(docker.bools, f) {
			t.Errorf("Makefile builds with %s, the Dockerfile does not", f)
		}
	}
	for _, f := range docker.bools {
		if !slices.Contains(mk.bools, f) {
			t.Errorf("Dockerfile builds with %s, the Makefile does not", f)
		}
	}
	for k, v := range mk.values {
		if k == "-o" || k == "-ldflags" {
			continue
		}
		if docker.values[k] != v {
			t.Errorf("Makefile builds with %s=%s, the Dockerfile with %q", k, v, docker.values[k])
		}
	}
	mkLD := strings.Fields(versionPlaceholder.ReplaceAllString(mk.values["-ldflags"], "VERSION"))
	dockerLD := strings.Fields(versionPlaceholder.ReplaceAllString(docker.values["-ldflags"], "VERSION"))
	if !slices.Contains(mkLD, "main.version=VERSION") {
		t.Errorf("Makefile -ldflags %q do not set main.version", mk.values["-ldflags"])
	}
	for _, w := range mkLD {
		if !slices.Contains(dockerLD, w) {
			t.Errorf("Makefile -ldflags have %q, the Dockerfile's (%q) do not", w, docker.values["-ldflags"])
		}
	}
	for _, w := range dockerLD {
		if !slices.Contains(mkLD, w) && w != "-s" && w != "-w" {
			t.Errorf("Dockerfile -ldflags have %q, the Makefile's do not", w)
		}
	}
}

// The Dockerfile's build command, run here, makes a statically linked ELF
// binary (no interpreter, no shared libraries) that carries the version.
func TestContainerBinaryIsStatic(t *testing.T) {
	b := dockerfileBuild(t)
	const version = "container-test-4f1c"
	bin := filepath.Join(t.TempDir(), "ctdsr")
	args := []string{"build"}
	for _, f := range b.bools {
		args = append(args, f)
	}
	for k, v := range b.values {
		if k == "-o" {
			v = bin
		}
		args = append(args, k, versionPlaceholder.ReplaceAllString(v, version))
	}
	args = append(args, b.packages...)
	cmd := exec.Command(goTool(t), args...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH)
	for k, v := range b.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	}

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("the binary is not ELF: %v", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has a PT_INTERP program header: it is dynamically linked and needs a libc the base image lacks")
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	if len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v (DT_NEEDED)", libs)
	}
	if f.Section(".symtab") != nil {
		t.Error("the binary has a symbol table: -ldflags -s did not take effect")
	}
	raw, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(version)) {
		t.Errorf("the binary does not carry the version %q: -X main.version did not take effect", version)
	}
	if runtime.GOOS == "linux" {
		out, err := exec.Command(bin, "version").CombinedOutput()
		if err != nil || string(out) != "ctdsr "+version+"\n" {
			t.Errorf("ctdsr version: %q, %v; want %q", out, err, "ctdsr "+version+"\n")
		}
	}
}

// dockerignore is .dockerignore's rules, matched as Docker matches them:
// the last matching pattern wins, `!` re-includes, a pattern that matches a
// directory matches everything under it, `**` spans directories.
type dockerignore []struct {
	re      *regexp.Regexp
	exclude bool
}

func mustReadDockerignore(tb testing.TB) dockerignore {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		tb.Fatal(err)
	}
	var d dockerignore
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		pattern, include := strings.CutPrefix(line, "!")
		pattern = strings.TrimPrefix(filepath.ToSlash(filepath.Clean(pattern)), "/")
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(pattern); i++ {
			switch c := pattern[i]; {
			case strings.HasPrefix(pattern[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(pattern[i:], "**"):
				re.WriteString(".*")
				i++
			case c == '*':
				re.WriteString("[^/]*")
			case c == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		re.WriteString("$")
		d = append(d, struct {
			re      *regexp.Regexp
			exclude bool
		}{regexp.MustCompile(re.String()), !include})
	}
	return d
}

// excluded reports whether Docker leaves path (slash-separated, relative to
// the context) out of the build context.
func (d dockerignore) excluded(path string) bool {
	parts := strings.Split(path, "/")
	out := false
	for _, rule := range d {
		for i := 1; i <= len(parts); i++ {
			if rule.re.MatchString(strings.Join(parts[:i], "/")) {
				out = rule.exclude
				break
			}
		}
	}
	return out
}

// goListPackage is what `go list -json` says of a package, as far as the
// build context is concerned.
type goListPackage struct {
	ImportPath string
	Dir        string
	Standard   bool
	Module     *struct{ Main bool }
	GoFiles    []string
	EmbedFiles []string
	SFiles     []string
	HFiles     []string
}

// Every file the Dockerfile's build reads reaches the build context; the
// personal data an operator's checkout may hold does not.
func TestDockerignoreKeepsBuildInputs(t *testing.T) {
	ignore := mustReadDockerignore(t)
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goTool(t), "list", "-deps", "-json", "./cmd/ctdsr")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	needed := []string{"go.mod", "go.sum"}
	var deps []string
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p goListPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		deps = append(deps, p.ImportPath)
		if p.Standard || p.Module == nil || !p.Module.Main {
			continue
		}
		rel, err := filepath.Rel(root, p.Dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, files := range [][]string{p.GoFiles, p.EmbedFiles, p.SFiles, p.HFiles} {
			for _, f := range files {
				needed = append(needed, filepath.ToSlash(filepath.Join(rel, f)))
			}
		}
	}
	if !slices.Contains(deps, "time/tzdata") {
		t.Error("the binary does not embed time/tzdata: --timezone would fail on a base image without zoneinfo")
	}
	if len(needed) < 20 {
		t.Fatalf("go list found only %d files to build; the test is not looking at the build", len(needed))
	}
	for _, f := range needed {
		if ignore.excluded(f) {
			t.Errorf(".dockerignore leaves out %s, which the build needs", f)
		}
	}
	for _, f := range []string{".git/config", "state/ledger.db", "state/ledger.db-wal", "inbox/2026-12-01.csv",
		"inbox/requests.xlsx", "reports/latest/requests.parquet", "reports/latest/summary.json",
		"credentials.env", "passcode.txt", "metrics/ctdsr.prom", "bin/ctdsr", "ctdsr", "testdata/demo/manifest.csv"} {
		if !ignore.excluded(f) {
			t.Errorf(".dockerignore lets %s into the build context", f)
		}
	}
}
