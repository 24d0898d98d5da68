// Package kubernetes holds the Kubernetes manifests that run ctdsr on a
// schedule, one CronJob, ledger and PersistentVolumeClaim per CleverTap
// account (cronjob.yaml), plus a one-off Job that loads a manifest
// (load-manifest-job.yaml). It has no Go code of its own: its tests parse
// every YAML document here and check the settings that matter, so
// `go test ./...` (and `make test`) catches a manifest that no longer parses
// or has lost one. cmd/ctdsr's tests check that the containers' arguments
// are flags `ctdsr run` accepts.
package kubernetes
