// Command pulumi-resource-kubernetes serves the upstream provider. The upstream main embeds files that
// are generated, not committed, so its package cannot be built from the module zip; build.py writes
// them here (schema.json with the version set) and this wrapper makes the same single call.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var schema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, schema, terraformMapping)
}
