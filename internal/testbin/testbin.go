// Package testbin builds the real target programs that HERMES's tests trace.
//
// The programs live in the module's testdata directory:
//
//	testdata/c/NAME.c       single-file C programs, built with gcc by [C]
//	testdata/go/NAME/       Go main packages (stdlib only), built by [Go]
//	testdata/go/NAME/       or Go test packages (only _test.go files), built by [Go] as test binaries
//
// Each program documents at its top what it does, what it prints and how it
// exits.
//
// Built binaries are cached across tests, test binaries and test runs in
// os.TempDir()/hermes-testbin/KEY/NAME, where KEY is a hash of the sources,
// the compiler flags and the compiler version; a program whose sources are
// unchanged is compiled only once. The binary keeps its plain NAME so that
// the process's comm (and argv[0]) is NAME. Builds write into a private
// temporary directory and are then renamed into place, so several test
// binaries (go test runs packages in parallel) can build the same program
// at the same time safely; within one process concurrent requests for the
// same program share a single build.
//
// C programs are compiled with "gcc -O1 -g -pthread -Wall" (dynamically
// linked, PIE by default). A source file can add flags with a directive line
// of the form
//
//	// testbin:cflags -no-pie
//
// anywhere in the file (conventionally the first line); the flags are
// appended to the gcc command line and are part of the cache key.
//
// Go programs are built with "go build -o BIN ./testdata/go/NAME" run in the
// module root. (Directories named testdata are skipped by "./..." patterns,
// but an explicit package path inside one builds fine.) A directory that
// holds only _test.go files is a test binary, built with "go test -c -o BIN
// ./testdata/go/NAME": it runs its tests and takes the go test binary's
// -test.* flags.
package testbin

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// baseCFlags are passed to gcc for every C program, before any flags from a
// "// testbin:cflags" directive.
var baseCFlags = []string{"-O1", "-g", "-pthread", "-Wall"}

// cflagsDirective marks a source line that adds gcc flags.
const cflagsDirective = "// testbin:cflags"

// CacheDir returns the directory under which built binaries are cached.
func CacheDir() string {
	return filepath.Join(os.TempDir(), "hermes-testbin")
}

// Root returns the module root: the nearest directory, starting at the
// working directory and walking up, that contains a go.mod file.
func Root(tb testing.TB) string {
	tb.Helper()
	root, err := findRoot()
	if err != nil {
		tb.Fatalf("testbin: %v", err)
	}
	return root
}

func findRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		if fi, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !fi.IsDir() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod found in %s or any parent directory", wd)
		}
		dir = parent
	}
}

// C compiles testdata/c/NAME.c with gcc and returns the path of the binary.
// On failure it calls tb.Fatalf with the compiler output.
func C(tb testing.TB, name string) string {
	tb.Helper()
	path, err := buildC(name)
	if err != nil {
		tb.Fatalf("testbin: building C program %q: %v", name, err)
	}
	return path
}

// Go builds the main package testdata/go/NAME with "go build" (a package of
// only _test.go files with "go test -c") and returns the path of the binary.
// On failure it calls tb.Fatalf with the compiler output.
func Go(tb testing.TB, name string) string {
	tb.Helper()
	path, err := buildGo(name)
	if err != nil {
		tb.Fatalf("testbin: building Go program %q: %v", name, err)
	}
	return path
}

// CFlags returns the gcc flags used for testdata/c/NAME.c: the base flags
// plus those from any "// testbin:cflags" directives in the source.
func CFlags(tb testing.TB, name string) []string {
	tb.Helper()
	src, err := os.ReadFile(filepath.Join(Root(tb), "testdata", "c", name+".c"))
	if err != nil {
		tb.Fatalf("testbin: %v", err)
	}
	return cflags(src)
}

func cflags(src []byte) []string {
	flags := append([]string(nil), baseCFlags...)
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, cflagsDirective); ok {
			if rest == "" || rest[0] == ' ' || rest[0] == '\t' {
				flags = append(flags, strings.Fields(rest)...)
			}
		}
	}
	return flags
}

// A build is one (possibly shared) compilation within this process.
type build struct {
	once sync.Once
	path string
	err  error
}

var (
	buildsMu sync.Mutex
	builds   = map[string]*build{}
)

// once runs fn at most once per key in this process and returns its result.
func once(key string, fn func() (string, error)) (string, error) {
	buildsMu.Lock()
	b := builds[key]
	if b == nil {
		b = new(build)
		builds[key] = b
	}
	buildsMu.Unlock()
	b.once.Do(func() { b.path, b.err = fn() })
	return b.path, b.err
}

// toolInfo caches the output of a command describing a compiler, which is
// part of the cache key.
type toolInfo struct {
	once sync.Once
	out  string
	err  error
}

var gccInfo, goInfo toolInfo

func (t *toolInfo) get(name string, args ...string) (string, error) {
	t.once.Do(func() {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.err = fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
			return
		}
		t.out = string(out)
	})
	return t.out, t.err
}

func buildC(name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	root, err := findRoot()
	if err != nil {
		return "", err
	}
	srcPath := filepath.Join(root, "testdata", "c", name+".c")
	src, err := os.ReadFile(srcPath)
	if err != nil {
		return "", err
	}
	ver, err := gccInfo.get("gcc", "-dumpfullversion", "-dumpmachine")
	if err != nil {
		return "", err
	}
	flags := cflags(src)
	h := sha256.New()
	fmt.Fprintf(h, "c\x00%s\x00%s\x00%q\x00", name, ver, flags)
	h.Write(src)
	key := hex.EncodeToString(h.Sum(nil))[:24]
	return once(CacheDir()+"/c/"+key, func() (string, error) {
		return install(key, name, func(out string) (string, []byte, error) {
			args := append(append([]string(nil), flags...), "-o", out, srcPath)
			cmd := exec.Command("gcc", args...)
			cmd.Dir = root
			o, err := cmd.CombinedOutput()
			return "gcc " + strings.Join(args, " "), o, err
		})
	})
}

func buildGo(name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	root, err := findRoot()
	if err != nil {
		return "", err
	}
	goTool := goCommand()
	env, err := goInfo.get(goTool, "env", "GOVERSION", "GOOS", "GOARCH", "CGO_ENABLED", "GOFLAGS", "GOEXPERIMENT")
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "go\x00%s\x00%s\x00", name, env)
	for _, f := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(data))
		h.Write(data)
	}
	pkgDir := filepath.Join(root, "testdata", "go", name)
	if err := hashTree(h, pkgDir); err != nil {
		return "", err
	}
	key := hex.EncodeToString(h.Sum(nil))[:24]
	testOnly, err := IsGoTest(pkgDir)
	if err != nil {
		return "", err
	}
	return once(CacheDir()+"/go/"+key, func() (string, error) {
		return install(key, name, func(out string) (string, []byte, error) {
			args := []string{"build", "-o", out, "./" + filepath.ToSlash(filepath.Join("testdata", "go", name))}
			if testOnly {
				args = append([]string{"test", "-c"}, args[1:]...)
			}
			cmd := exec.Command(goTool, args...)
			cmd.Dir = root
			o, err := cmd.CombinedOutput()
			return goTool + " " + strings.Join(args, " "), o, err
		})
	})
}

// IsGoTest reports whether the Go package in dir is a test package: it has
// _test.go files and no other Go files.
func IsGoTest(dir string) (bool, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	tests := false
	for _, e := range ents {
		n := e.Name()
		switch {
		case !e.Type().IsRegular() || !strings.HasSuffix(n, ".go"):
		case strings.HasSuffix(n, "_test.go"):
			tests = true
		default:
			return false, nil
		}
	}
	return tests, nil
}

// goCommand returns the go tool to use: $GOROOT/bin/go if GOROOT is set in
// the environment (go test sets it for test binaries), else "go" from PATH.
func goCommand() string {
	if goroot := os.Getenv("GOROOT"); goroot != "" {
		p := filepath.Join(goroot, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "go"
}

// hashTree hashes the names and contents of all regular files under dir.
func hashTree(h interface{ Write([]byte) (int, error) }, dir string) error {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no files in %s", dir)
	}
	sort.Strings(files)
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.ToSlash(rel), len(data))
		h.Write(data)
	}
	return nil
}

// install returns the cached binary CacheDir()/key/name, building it first if
// it does not exist. compile must write the binary to the path it is given
// and returns the command line and output for error messages.
func install(key, name string, compile func(out string) (cmdline string, output []byte, err error)) (string, error) {
	dir := filepath.Join(CacheDir(), key)
	final := filepath.Join(dir, name)
	if fi, err := os.Stat(final); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return final, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// Build in a private directory so the output keeps its plain name (go
	// build refuses to overwrite a non-object file, e.g. an empty temp
	// file) and concurrent builders never see each other's partial output.
	tmpDir, err := os.MkdirTemp(dir, ".build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmpDir)
	out := filepath.Join(tmpDir, name)
	cmdline, output, err := compile(out)
	if err != nil {
		return "", fmt.Errorf("%s: %v\n%s", cmdline, err, output)
	}
	// rename(2) is atomic: readers see either no file or a complete one. If
	// another process won the race its binary is identical, so replacing it
	// is harmless.
	if err := os.Rename(out, final); err != nil {
		return "", err
	}
	return final, nil
}

func checkName(name string) error {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." || strings.HasPrefix(name, ".") {
		return fmt.Errorf("invalid program name %q", name)
	}
	return nil
}

var int80Probe struct {
	once sync.Once
	err  error
}

// NeedInt80 skips the test unless `int 0x80` works natively on this
// machine: some virtual machines fault on it (the i386 entry is turned off
// in the host's kernel or by the hypervisor), and then a test of how hermes
// sees i386 calls has nothing to look at. It runs the int80 program once,
// untraced, and remembers the answer.
func NeedInt80(tb testing.TB) {
	tb.Helper()
	bin := C(tb, "int80")
	int80Probe.once.Do(func() {
		out, err := exec.Command(bin).CombinedOutput()
		if err != nil {
			int80Probe.err = fmt.Errorf("%v (output %q)", err, out)
		}
	})
	if int80Probe.err != nil {
		tb.Skipf("int 0x80 does not work natively here: %v", int80Probe.err)
	}
}
