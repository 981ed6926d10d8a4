//go:build tools

// Package tools pins the Argo Rollouts controller (the version chart 2.41.0 installs) for `make e2e`.
package tools

import _ "github.com/argoproj/argo-rollouts/cmd/rollouts-controller"
