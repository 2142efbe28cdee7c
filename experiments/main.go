// Command experiments runs the paper's claims as declarative experiments.
//
// The harness is being built (issue "experiments"); until it lands this
// command only says so.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "experiments: the reproduction harness is not built yet; nothing to run (see README.md)")
}
