//go:build tools

// Package tools pins the Pulumi CLI built into .tools/bin by `make e2e-tools`.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
