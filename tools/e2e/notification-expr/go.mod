module tbcoin-platform/tools/e2e/notification-expr

go 1.26.0

// The version Argo Rollouts v1.9.0 builds its notification engine with (tools/e2e/argo-rollouts).
require github.com/expr-lang/expr v1.16.9
