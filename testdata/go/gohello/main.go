// Command gohello is the simplest Go target for the tracer's tests.
//
// Usage: gohello [CODE]
//
// It prints "hello from go\n" to stdout and exits with status CODE
// (default 0).
package main

import (
	"fmt"
	"os"
	"strconv"
)

func main() {
	fmt.Println("hello from go")
	code := 0
	if len(os.Args) > 1 {
		n, err := strconv.Atoi(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "gohello: bad exit code:", err)
			os.Exit(2)
		}
		code = n
	}
	os.Exit(code)
}
