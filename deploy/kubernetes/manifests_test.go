package kubernetes

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// doc is one YAML document of a manifest file.
type doc struct {
	file string
	m    map[string]any
}

func (d doc) String() string {
	return fmt.Sprintf("%s: %s %s", d.file, str(d.m, "kind"), name(d.m))
}

// mustLoadDocs parses every document of every *.yaml file in this
// directory.
func mustLoadDocs(tb testing.TB) []doc {
	tb.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatal("no *.yaml files")
	}
	var docs []doc
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for i := 1; ; i++ {
			var m map[string]any
			err := dec.Decode(&m)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				tb.Fatalf("%s: document %d does not parse: %v", f, i, err)
			}
			if m == nil {
				continue // an empty document (comments only)
			}
			docs = append(docs, doc{file: f, m: m})
		}
	}
	return docs
}

// get walks m along keys (map keys, or list indexes as ints).
func get(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any, keys ...any) string {
	s, _ := get(v, keys...).(string)
	return s
}

func list(v any, keys ...any) []any {
	l, _ := get(v, keys...).([]any)
	return l
}

func name(m map[string]any) string {
	if n := str(m, "metadata", "name"); n != "" {
		return n
	}
	return str(m, "metadata", "generateName")
}

// podSpec is the pod template of a CronJob or a Job.
func podSpec(d doc) map[string]any {
	var v any
	switch str(d.m, "kind") {
	case "CronJob":
		v = get(d.m, "spec", "jobTemplate", "spec", "template", "spec")
	case "Job":
		v = get(d.m, "spec", "template", "spec")
	}
	m, _ := v.(map[string]any)
	return m
}

func jobSpec(d doc) map[string]any {
	var v any
	switch str(d.m, "kind") {
	case "CronJob":
		v = get(d.m, "spec", "jobTemplate", "spec")
	case "Job":
		v = get(d.m, "spec")
	}
	m, _ := v.(map[string]any)
	return m
}

func TestManifestsParseAndAreWhatWeShip(t *testing.T) {
	docs := mustLoadDocs(t)
	var kinds []string
	for _, d := range docs {
		kinds = append(kinds, str(d.m, "apiVersion")+" "+str(d.m, "kind"))
		if name(d.m) == "" {
			t.Errorf("%s: no metadata.name or generateName", d)
		}
		if str(d.m, "metadata", "namespace") == "" {
			t.Errorf("%s: no namespace", d)
		}
	}
	for _, want := range []string{"batch/v1 CronJob", "v1 PersistentVolumeClaim", "batch/v1 Job"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("no %s among %v", want, kinds)
		}
	}
}

func TestCronJobSchedule(t *testing.T) {
	n := 0
	for _, d := range mustLoadDocs(t) {
		if str(d.m, "kind") != "CronJob" {
			continue
		}
		n++
		spec := get(d.m, "spec")
		if got := str(spec, "concurrencyPolicy"); got != "Forbid" {
			t.Errorf("%s: concurrencyPolicy %q, want Forbid (one run per ledger)", d, got)
		}
		if got, ok := get(spec, "startingDeadlineSeconds").(int); !ok || got < 60 {
			t.Errorf("%s: startingDeadlineSeconds %v, want a number of at least 60", d, get(spec, "startingDeadlineSeconds"))
		}
		if str(spec, "schedule") == "" {
			t.Errorf("%s: no schedule", d)
		}
	}
	if n != 1 {
		t.Errorf("%d CronJobs, want 1: the file is the template for one account", n)
	}
}

// Every pod runs ctdsr as a non-root user with nothing to escalate to,
// takes its credentials from a Secret and keeps its ledger on the claim.
func TestPodsAreLockedDown(t *testing.T) {
	docs := mustLoadDocs(t)
	claims := map[string]doc{}
	for _, d := range docs {
		if str(d.m, "kind") == "PersistentVolumeClaim" {
			claims[name(d.m)] = d
			if modes := list(d.m, "spec", "accessModes"); !slices.Equal(modes, []any{"ReadWriteOnce"}) {
				t.Errorf("%s: accessModes %v, want [ReadWriteOnce]", d, modes)
			}
			if str(d.m, "spec", "resources", "requests", "storage") == "" {
				t.Errorf("%s: no storage request", d)
			}
		}
	}
	pods := 0
	for _, d := range docs {
		pod := podSpec(d)
		if pod == nil {
			continue
		}
		pods++
		t.Run(d.String(), func(t *testing.T) { checkPod(t, d, pod, claims) })
	}
	if pods == 0 {
		t.Fatal("no CronJob or Job")
	}
}

func checkPod(t *testing.T, d doc, pod map[string]any, claims map[string]doc) {
	job := jobSpec(d)
	if _, ok := get(job, "backoffLimit").(int); !ok {
		t.Error("no backoffLimit")
	}
	if got := str(pod, "restartPolicy"); got != "Never" {
		t.Errorf("restartPolicy %q, want Never (a failed run is retried by a new pod, under backoffLimit)", got)
	}
	if get(pod, "automountServiceAccountToken") != false {
		t.Error("automountServiceAccountToken is not false: ctdsr never talks to the Kubernetes API")
	}
	psc := get(pod, "securityContext")
	if get(psc, "runAsNonRoot") != true {
		t.Error("pod securityContext.runAsNonRoot is not true")
	}
	if uid, ok := get(psc, "runAsUser").(int); !ok || uid == 0 {
		t.Errorf("pod runAsUser %v, want a non-zero number", get(psc, "runAsUser"))
	}
	if _, ok := get(psc, "fsGroup").(int); !ok {
		t.Error("no fsGroup: the non-root user cannot write the claim")
	}

	volumes := map[string]any{}
	for _, v := range list(pod, "volumes") {
		volumes[str(v, "name")] = v
	}
	containers := list(pod, "containers")
	if len(containers) != 1 {
		t.Fatalf("%d containers, want 1", len(containers))
	}
	c := containers[0]
	if str(c, "name") != "ctdsr" {
		t.Errorf("container %q, want ctdsr (podFailurePolicy names it)", str(c, "name"))
	}
	sc := get(c, "securityContext")
	for key, want := range map[string]any{"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "privileged": false} {
		if got := get(sc, key); got != want {
			t.Errorf("container securityContext.%s = %v, want %v", key, got, want)
		}
	}
	if drop := list(sc, "capabilities", "drop"); !slices.Contains(drop, any("ALL")) {
		t.Errorf("capabilities.drop %v, want ALL", drop)
	}
	if len(list(sc, "capabilities", "add")) > 0 {
		t.Error("capabilities added")
	}
	for _, r := range []string{"requests", "limits"} {
		if str(c, "resources", r, "memory") == "" {
			t.Errorf("no memory %s", r)
		}
	}

	// Credentials: the account ID from a Secret; no literal secret values.
	accountFromSecret := false
	for _, e := range list(c, "env") {
		n := str(e, "name")
		if strings.Contains(n, "PASSCODE") && get(e, "value") != nil {
			t.Errorf("env %s has a literal value: use the Secret", n)
		}
		if n == "CLEVERTAP_ACCOUNT_ID" && str(e, "valueFrom", "secretKeyRef", "name") != "" && str(e, "valueFrom", "secretKeyRef", "key") != "" {
			accountFromSecret = true
		}
	}
	if !accountFromSecret {
		t.Error("CLEVERTAP_ACCOUNT_ID does not come from a secretKeyRef")
	}

	mounts := map[string]any{} // mount path → volume
	readOnly := map[string]bool{}
	for _, m := range list(c, "volumeMounts") {
		v, ok := volumes[str(m, "name")]
		if !ok {
			t.Errorf("volumeMount %q has no volume", str(m, "name"))
			continue
		}
		mounts[str(m, "mountPath")] = v
		readOnly[str(m, "mountPath")] = get(m, "readOnly") == true
	}
	// mountOf returns the mount holding file p.
	mountOf := func(p string) (string, any) {
		best := ""
		for mp := range mounts {
			if (p == mp || strings.HasPrefix(p, strings.TrimSuffix(mp, "/")+"/")) && len(mp) > len(best) {
				best = mp
			}
		}
		return best, mounts[best]
	}

	args := list(c, "args")
	if len(args) == 0 || args[0] != "run" {
		t.Fatalf("args %v, want `run ...`", args)
	}
	flags := map[string]string{}
	for _, a := range args[1:] {
		s, _ := a.(string)
		k, v, ok := strings.Cut(strings.TrimLeft(s, "-"), "=")
		if !strings.HasPrefix(s, "--") || !ok {
			t.Errorf("argument %q: write flags as --name=value, so copies stay readable", s)
			continue
		}
		flags[k] = v
	}
	if flags["passcode-file"] == "" {
		t.Error("no --passcode-file: the passcode must come from the Secret volume, not an environment variable")
	} else {
		mp, v := mountOf(flags["passcode-file"])
		if str(v, "secret", "secretName") == "" || !readOnly[mp] {
			t.Errorf("--passcode-file %s is not on a read-only Secret volume", flags["passcode-file"])
		}
		if mode, ok := get(v, "secret", "defaultMode").(int); !ok || mode&^0o440 != 0 {
			t.Errorf("passcode Secret defaultMode %v, want at most 0440", get(v, "secret", "defaultMode"))
		}
	}
	for _, f := range []string{"state", "out"} {
		p := flags[f]
		if p == "" {
			t.Errorf("no --%s", f)
			continue
		}
		mp, v := mountOf(p)
		claim := str(v, "persistentVolumeClaim", "claimName")
		if claim == "" || readOnly[mp] {
			t.Errorf("--%s %s is not on a writable PersistentVolumeClaim mount", f, p)
			continue
		}
		if _, ok := claims[claim]; !ok {
			t.Errorf("--%s: claim %q is defined in no manifest here", f, claim)
		}
	}
	if _, v := mountOf("/tmp/x"); get(v, "emptyDir") == nil {
		t.Error("no writable /tmp (the root filesystem is read-only)")
	}

	// A copy for another account replaces the slug everywhere: every name
	// this pod refers to carries it.
	slug := str(d.m, "metadata", "labels", "app.kubernetes.io/instance")
	if slug == "" {
		t.Fatal("no app.kubernetes.io/instance label")
	}
	refs := []string{name(d.m)}
	for _, v := range volumes {
		refs = append(refs, str(v, "persistentVolumeClaim", "claimName"), str(v, "secret", "secretName"))
	}
	for _, e := range list(c, "env") {
		refs = append(refs, str(e, "valueFrom", "secretKeyRef", "name"))
	}
	for _, r := range refs {
		if r != "" && !strings.Contains(r, slug) {
			t.Errorf("%q does not carry the account slug %q", r, slug)
		}
	}
	if region := flags["region"]; region == "" || !strings.HasSuffix(slug, region) {
		t.Errorf("--region=%s does not match the account slug %q", region, slug)
	}
}
