package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hermes-trace/hermes/internal/testbin"
)

// TestENOSPCRealPrograms runs cp, tar and go test under builtin:enospc with
// a program filter, with hermes's standard output and error a file under
// the prefix (as a CI log in /tmp is): the program under test gets ENOSPC
// (cp on copy_file_range, after its reflink ioctl), the programs around it
// (the shell's cat, the go toolchain writing _testmain.go) do not, and the
// program's error message reaches its stderr.
func TestENOSPCRealPrograms(t *testing.T) {
	need(t, "cp", "tar", "cat", "go")
	root := testbin.Root(t)
	for _, tc := range []struct {
		name   string
		params []string
		argv   func(dir string) []string
		want   []string // what the log must have
		not    []string // what it must not
	}{
		{"cp", []string{"comm=cp"},
			func(dir string) []string {
				return []string{"sh", "-c", "cat src/data > " + dir + "/bycat && cp src/data " + dir + "/bycp"}
			},
			[]string{"cp: error copying 'src/data' to '", "No space left on device"}, nil},
		{"tar", []string{"comm=tar"},
			func(dir string) []string {
				return []string{"sh", "-c", "cat src/data > " + dir + "/bycat && tar -cf " + dir + "/out.tar -C src ."}
			},
			[]string{"tar: ", "Cannot write: No space left on device"}, nil},
		{"go test", []string{"exe=*.test"},
			func(string) []string { return []string{"go", "test", "-count=1", "./testdata/gotest/savefile"} },
			[]string{"--- FAIL: TestSave", "save: write ", "/data/saved: no space left on device"}, []string{"setup failed"}},
		{"go test without a filter: the toolchain fails", nil,
			func(string) []string { return []string{"go", "test", "-count=1", "./testdata/gotest/savefile"} },
			[]string{"_testmain.go: no space left on device", "[setup failed]"}, []string{"save: "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			dir := filepath.Join(work, "disk") // what fills up
			for _, d := range []string{filepath.Join(work, "src"), filepath.Join(dir, "tmp"), filepath.Join(dir, "data")} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			data := bytes.Repeat([]byte("0123456789abcdef"), 1<<14)
			os.WriteFile(filepath.Join(work, "src", "data"), data, 0o644)
			log, err := os.Create(filepath.Join(dir, "log"))
			if err != nil {
				t.Fatal(err)
			}
			defer log.Close()
			args := []string{"trace", "-o", os.DevNull, "--inject", "builtin:enospc", "--param", "prefix=" + dir + "/"}
			for _, p := range tc.params {
				args = append(args, "--param", p)
			}
			cmd := exec.Command(hermesBin, append(append(args, "--"), tc.argv(dir)...)...)
			cmd.Dir = work
			if strings.HasPrefix(tc.name, "go test") {
				cmd.Dir = root
			}
			// The go toolchain's work files go under the prefix too.
			cmd.Env = append(os.Environ(), "TMPDIR="+filepath.Join(dir, "tmp"), "SAVEFILE_DIR="+filepath.Join(dir, "data"))
			cmd.Stdout, cmd.Stderr = log, log
			err = cmd.Run()
			out, _ := os.ReadFile(log.Name())
			if _, ok := err.(*exec.ExitError); !ok {
				t.Fatalf("want a failing run, got %v:\n%s", err, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("the log lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(string(out), w) {
					t.Errorf("the log has %q:\n%s", w, out)
				}
			}
			if bycat, err := os.ReadFile(filepath.Join(dir, "bycat")); err == nil && !bytes.Equal(bycat, data) {
				t.Errorf("cat, which the filter leaves alone, wrote %d of %d bytes", len(bycat), len(data))
			}
		})
	}
}
