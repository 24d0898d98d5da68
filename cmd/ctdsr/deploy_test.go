package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
)

// deployContainer is the part of a Kubernetes CronJob or Job this test
// reads: the ctdsr container's arguments.
type deployContainer struct {
	Name string   `yaml:"name"`
	Args []string `yaml:"args"`
}

type deployPodSpec struct {
	Containers []deployContainer `yaml:"containers"`
}

type deployDoc struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name         string `yaml:"name"`
		GenerateName string `yaml:"generateName"`
	} `yaml:"metadata"`
	Spec struct {
		// Job
		Template struct {
			Spec deployPodSpec `yaml:"spec"`
		} `yaml:"template"`
		// CronJob
		JobTemplate struct {
			Spec struct {
				Template struct {
					Spec deployPodSpec `yaml:"spec"`
				} `yaml:"template"`
			} `yaml:"spec"`
		} `yaml:"jobTemplate"`
	} `yaml:"spec"`
}

// The arguments the Kubernetes manifests give ctdsr are a subcommand and
// flags it accepts: a typo there would make every scheduled run exit 2.
// (deploy/kubernetes's own tests check the rest of the manifests.)
func TestDeployArgsAreRunFlags(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot, "deploy", "kubernetes", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no deploy/kubernetes/*.yaml: %v", err)
	}
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var d deployDoc
			if err := dec.Decode(&d); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			var pod deployPodSpec
			switch d.Kind {
			case "CronJob":
				pod = d.Spec.JobTemplate.Spec.Template.Spec
			case "Job":
				pod = d.Spec.Template.Spec
			default:
				continue
			}
			for _, c := range pod.Containers {
				name := filepath.Base(f) + ": " + d.Kind + " " + d.Metadata.Name + d.Metadata.GenerateName + ": " + c.Name
				if len(c.Args) == 0 {
					t.Errorf("%s: no args", name)
					continue
				}
				// --help after every argument: parsing stops at the first
				// flag it does not know or whose value it refuses, and
				// reaches --help only when all are good.
				env := &Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
				err := run(t.Context(), env, append(append([]string{}, c.Args...), "--help"))
				if !errors.Is(err, errHelpShown) {
					t.Errorf("%s: ctdsr %v: %v", name, c.Args, err)
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Error("no CronJob or Job container found")
	}
}
