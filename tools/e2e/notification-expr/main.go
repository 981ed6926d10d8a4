// Command notification-expr evaluates a notification trigger's `when` condition as the Argo
// Rollouts notification engine does: compiled with expr, run with the Rollout as `rollout`, and
// triggered only by a boolean true. It prints one line per Rollout file: true, false, or error.
//
//	notification-expr CONDITION ROLLOUT.json...
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/expr-lang/expr"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: notification-expr CONDITION ROLLOUT.json...")
		os.Exit(2)
	}
	program, err := expr.Compile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "condition does not compile:", err)
		os.Exit(2)
	}
	for _, path := range os.Args[2:] {
		data, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		var rollout map[string]any
		if err := json.Unmarshal(data, &rollout); err != nil {
			fmt.Fprintln(os.Stderr, path, err)
			os.Exit(2)
		}
		value, err := expr.Run(program, map[string]any{"rollout": rollout})
		switch triggered, ok := value.(bool); {
		case err != nil:
			fmt.Println("error:", err)
		case ok && triggered:
			fmt.Println("true")
		default:
			fmt.Println("false")
		}
	}
}
