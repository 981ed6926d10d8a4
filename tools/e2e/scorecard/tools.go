//go:build tools

// Package tools pins OpenSSF Scorecard (the module's root package is its main) for `make e2e-scorecard`.
package tools

import _ "github.com/ossf/scorecard/v5"
