// Command gotime prints Go's sources of nondeterminism from a single
// goroutine, for record/replay tests.
//
// Usage: gotime
//
// It prints one labelled line each, in this order:
//
//	unixnano: N          time.Now().UnixNano()
//	rfc3339: TIME        time.Now().Format(time.RFC3339Nano) (local zone)
//	rand: HEX            16 bytes from crypto/rand, 32 hex digits
//	pid: N               os.Getpid()
//	uptime: TEXT         contents of /proc/uptime, trailing newline trimmed
//
// and exits 0. time.Now normally uses the vDSO, and on Linux 6.11+ so may
// crypto/rand (vgetrandom). Any failure: message on stderr, exit 1.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"
)

func main() {
	fmt.Printf("unixnano: %d\n", time.Now().UnixNano())
	fmt.Printf("rfc3339: %s\n", time.Now().Format(time.RFC3339Nano))
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		fmt.Fprintln(os.Stderr, "gotime:", err)
		os.Exit(1)
	}
	fmt.Printf("rand: %s\n", hex.EncodeToString(b))
	fmt.Printf("pid: %d\n", os.Getpid())
	up, err := os.ReadFile("/proc/uptime")
	if err != nil {
		fmt.Fprintln(os.Stderr, "gotime:", err)
		os.Exit(1)
	}
	fmt.Printf("uptime: %s\n", strings.TrimRight(string(up), "\n"))
}
