//go:build tools

// Package tools pins kubeconform, the strict schema validator `make test` runs with the
// vendored CRDs (tests/test_workload_checkers.py).
package tools

import _ "github.com/yannh/kubeconform/cmd/kubeconform"
