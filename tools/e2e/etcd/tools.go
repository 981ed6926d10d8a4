//go:build tools

// Package tools pins etcd (the server module's root package is its main) for `make e2e-tools`.
package tools

import _ "go.etcd.io/etcd/server/v3"
