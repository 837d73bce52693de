// Command gofinish starts goroutines whose finishing order depends on
// timing, for ordered replay and chaos tests.
//
// Usage: gofinish [G]
//
// It starts G goroutines (default 4). Each writes a few times to its own
// os.DevNull file, reads the clock (time.Now), does some work, and sends
// its number and how long it took to a channel. The main goroutine prints
// the numbers in the order they arrived ("finished 2 0 3 1"), then a line
// with 16 bytes of crypto/rand in hex, and exits 0. Failures print to
// stderr and exit 1.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func work(id int, done chan<- [2]int64) {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gofinish:", err)
		os.Exit(1)
	}
	defer f.Close()
	start := time.Now()
	x := uint64(id + 1)
	for i := 0; i < 3; i++ {
		if _, err := f.Write([]byte("x")); err != nil {
			fmt.Fprintln(os.Stderr, "gofinish:", err)
			os.Exit(1)
		}
		for j := 0; j < 20000; j++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	done <- [2]int64{int64(id), int64(time.Since(start)) + int64(x&1)}
}

func main() {
	n := 4
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil || v < 1 {
			fmt.Fprintln(os.Stderr, "usage: gofinish [G]")
			os.Exit(2)
		}
		n = v
	}
	done := make(chan [2]int64)
	for i := 0; i < n; i++ {
		go work(i, done)
	}
	order := make([]string, 0, n)
	for i := 0; i < n; i++ {
		r := <-done
		order = append(order, strconv.FormatInt(r[0], 10))
	}
	fmt.Println("finished", strings.Join(order, " "))
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		fmt.Fprintln(os.Stderr, "gofinish:", err)
		os.Exit(1)
	}
	fmt.Println("rand", hex.EncodeToString(b))
}
