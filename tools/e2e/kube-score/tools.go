//go:build tools

// Package tools pins kube-score, the workload checker `make test` runs on the synthesized manifests and the
// rendered charts (tests/test_workload_checkers.py).
package tools

import _ "github.com/zegl/kube-score/cmd/kube-score"
