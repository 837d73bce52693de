// Command gonet mixes file and loopback TCP I/O across goroutines, for
// record/replay tests of a multithreaded Go program.
//
// Usage: gonet DIR
//
// It prints "start: NANOS" (time.Now().UnixNano()) first, then starts a TCP
// echo server on 127.0.0.1:0 (one goroutine per connection) and 4 worker
// goroutines. Worker i (0..3) writes "worker i data\n" repeated 100*(i+1)
// times (1400*(i+1) bytes) to DIR/f<i>, reads the file back and compares,
// connects to the server, sends the content, half-closes, and reads the
// echo back to EOF. When all are done it prints, in order of i,
// "worker i: N bytes echoed, file ok" and exits 0. Any failure: message on
// stderr, exit 1; bad usage exit 2.
package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

func worker(i int, dir, addr string) (int, error) {
	content := []byte(strings.Repeat(fmt.Sprintf("worker %d data\n", i), 100*(i+1)))
	path := filepath.Join(dir, fmt.Sprintf("f%d", i))
	if err := os.WriteFile(path, content, 0o644); err != nil {
		return 0, err
	}
	if back, err := os.ReadFile(path); err != nil || !bytes.Equal(back, content) {
		return 0, fmt.Errorf("%s: read back %d bytes (%v), wrote %d", path, len(back), err, len(content))
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if _, err := conn.Write(content); err != nil {
		return 0, err
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		return 0, err
	}
	echo, err := io.ReadAll(conn)
	if err != nil || !bytes.Equal(echo, content) {
		return 0, fmt.Errorf("echo: got %d bytes (%v), sent %d", len(echo), err, len(content))
	}
	return len(echo), nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gonet DIR")
		os.Exit(2)
	}
	fmt.Printf("start: %d\n", time.Now().UnixNano())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "gonet:", err)
		os.Exit(1)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // listener closed
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	var wg sync.WaitGroup
	n := make([]int, 4)
	errs := make([]error, 4)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n[i], errs[i] = worker(i, os.Args[1], ln.Addr().String())
		}()
	}
	wg.Wait()
	ln.Close()
	code := 0
	for i := range n {
		if errs[i] != nil {
			fmt.Fprintf(os.Stderr, "gonet: worker %d: %v\n", i, errs[i])
			code = 1
		} else {
			fmt.Printf("worker %d: %d bytes echoed, file ok\n", i, n[i])
		}
	}
	os.Exit(code)
}
