// Package gotempdir is a test binary, built with "go test -c" (see
// internal/testbin): a Go test that uses t.TempDir, for replay tests of
// what the testing package does around a test (its goroutines, the
// temporary directory's random name, its removal at the end).
//
// Usage: gotempdir [-test.v] [-test.run REGEXP]
//
// TestTempDir makes a temporary directory with t.TempDir, has 4 goroutines
// each write a file into it (after a read of the clock), then lists the
// directory and prints its base name and the files in it, sorted, on one
// line ("dir TestTempDir1234567/001 files f0 f1 f2 f3"), and their total
// size. The binary prints what go test binaries print ("PASS", and with
// -test.v the RUN and PASS lines of the test) and exits 0; a failure
// prints FAIL and exits 1.
package gotempdir

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTempDir(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			data := []byte(strings.Repeat(strconv.Itoa(i), i+1) + "\n")
			if time.Now().IsZero() {
				data = nil
			}
			if err := os.WriteFile(filepath.Join(dir, "f"+strconv.Itoa(i)), data, 0o600); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(ents))
	size := int64(0)
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, e.Name())
		size += fi.Size()
	}
	sort.Strings(names)
	rel, err := filepath.Rel(os.TempDir(), dir)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("dir %s files %s size %d\n", rel, strings.Join(names, " "), size)
}
