//go:build tools

// Package tools pins KWOK (simulated nodes and pod lifecycle) for `make e2e-tools`.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
