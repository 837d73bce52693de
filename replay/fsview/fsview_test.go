package fsview

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hermes-trace/hermes/format/tracepb"
	"golang.org/x/sys/unix"
)

const sampleMountinfo = `21 26 0:20 / /proc rw,relatime - proc proc rw
22 26 0:21 / /sys rw,relatime - sysfs sysfs rw
23 26 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12334744k
24 23 0:22 / /dev/shm rw,relatime - tmpfs tmpfs rw
26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
27 26 0:24 / /mnt/tools ro,nosuid,nodev,relatime - tmpfs tools ro,size=4k
28 26 0:25 / /home/a\040b rw,relatime - ext4 /dev/vdb rw
29 26 0:26 /etc/hosts /etc/hosts rw,relatime - ext4 /dev/vdc rw
`

func TestParseMountinfo(t *testing.T) {
	ms, err := ParseMountinfo(strings.NewReader(sampleMountinfo))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		i      int
		point  string
		fstype string
		ro     bool
	}{
		{0, "/proc", "proc", false},
		{4, "/", "ext4", false},
		{5, "/mnt/tools", "tmpfs", true},
		{6, "/home/a b", "ext4", false},
		{7, "/etc/hosts", "ext4", false},
	}
	for _, tc := range tests {
		m := ms[tc.i]
		if m.Point != tc.point || m.FSType != tc.fstype || m.ReadOnly != tc.ro {
			t.Errorf("mount %d = %+v, want %s %s ro=%v", tc.i, m, tc.point, tc.fstype, tc.ro)
		}
	}
	for _, bad := range []string{"1 2 3\n", "x y 0:1 / / rw - ext4 a rw\n", "1 2 0:1 / / rw ext4\n"} {
		if _, err := ParseMountinfo(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseMountinfo(%q) took it", bad)
		}
	}
}

func FuzzParseMountinfo(f *testing.F) {
	f.Add(sampleMountinfo)
	f.Add("1 1 0:1 / / rw - x y rw\n")
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := ParseMountinfo(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, m := range ms {
			if strings.Contains(m.Point, `\0`) && !strings.Contains(s, `\\0`) {
				t.Errorf("escape left in %q", m.Point)
			}
		}
	})
}

// TestPlan checks what the holder is told to mount, as root (one overlay
// per writable mount, pseudo and read-only file systems bound, /dev/shm
// private) and as a user (mounts with mounts below them split).
func TestPlan(t *testing.T) {
	// A second writable file system and a file mounted on its own, at
	// real paths (the plan looks at what is mounted on).
	data := t.TempDir()
	hosts := filepath.Join(t.TempDir(), "hosts")
	writeFile(t, hosts, "127.0.0.1 localhost\n")
	info := strings.ReplaceAll(strings.ReplaceAll(sampleMountinfo, `/home/a\040b`, data), "/etc/hosts /etc/hosts", "/etc/hosts "+hosts)
	ms, err := ParseMountinfo(strings.NewReader(info))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	p, err := buildPlan(root, ms, true, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range p.steps {
		names = append(names, s.Name)
	}
	got := strings.Join(names, "\n")
	for _, want := range []string{
		"unshare mount and IPC namespaces", "make every mount private", "overlay /", "bind /proc", "bind /sys",
		"bind /dev", "bind /mnt/tools", "overlay " + data, "bind " + hosts, "make " + hosts + " read-only",
		"mount a private /dev/shm", "pivot_root", "detach the old root",
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("root plan lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "bind /dev/shm") {
		t.Errorf("/dev/shm bound from the host:\n%s", got)
	}
	var lowers []string
	for _, l := range p.layers {
		lowers = append(lowers, l.Lower)
	}
	if strings.Join(lowers, ",") != "/,"+data {
		t.Errorf("layers %v", lowers)
	}
	// As a user: "/" has mounts below it, so it is split (its real top
	// directories become layers of their own).
	p, err = buildPlan(t.TempDir(), ms, false, 1000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	names = names[:0]
	for _, s := range p.steps {
		names = append(names, s.Name)
	}
	got = strings.Join(names, "\n")
	for _, want := range []string{"unshare user, mount and IPC namespaces", "write /proc/self/uid_map", "tmpfs for /", "overlay /usr"} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("user plan lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "overlay /\n") {
		t.Errorf("user plan overlays / whole:\n%s", got)
	}
}

// TestRestore checks restoring into an upper layer, without namespaces:
// files, directories, links and whiteouts, contents checked against their
// digest, and that an image cannot lead a write out of the layer through a
// link another image made.
func TestRestore(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("whiteouts need root or a kernel that lets users make them")
	}
	lower := t.TempDir()
	upper := t.TempDir()
	outside := t.TempDir()
	writeFile(t, filepath.Join(lower, "created"), "made by the recording\n")
	writeFile(t, filepath.Join(lower, "same"), "unchanged\n")
	im := &Images{byPath: map[string]*tracepb.FileImage{}, blobs: t.TempDir()}
	add := func(img *tracepb.FileImage) {
		if err := im.add(img); err != nil {
			t.Fatal(err)
		}
	}
	data := []byte("what it was\n")
	sum := sha256.Sum256(data)
	same := sha256.Sum256([]byte("unchanged\n"))
	add(&tracepb.FileImage{Path: filepath.Join(lower, "created")})
	add(&tracepb.FileImage{Path: filepath.Join(lower, "deleted"), Exists: true, Mode: unix.S_IFREG | 0o640, Size: int64(len(data)), Sha256: sum[:], Data: data})
	add(&tracepb.FileImage{Path: filepath.Join(lower, "same"), Exists: true, Mode: unix.S_IFREG | 0o644, Size: 10, Sha256: same[:]})
	add(&tracepb.FileImage{Path: filepath.Join(lower, "dir", "sub"), Exists: true, Mode: unix.S_IFDIR | 0o700})
	add(&tracepb.FileImage{Path: filepath.Join(lower, "esc"), Exists: true, Mode: unix.S_IFLNK | 0o777, Link: outside})
	add(&tracepb.FileImage{Path: filepath.Join(lower, "esc", "pwned"), Exists: true, Mode: unix.S_IFREG | 0o644, Size: int64(len(data)), Sha256: sum[:]})
	bad := sha256.Sum256([]byte("other"))
	add(&tracepb.FileImage{Path: filepath.Join(lower, "wrongdigest"), Exists: true, Mode: unix.S_IFREG | 0o644, Size: 5, Sha256: bad[:], Data: []byte("fake!")})
	add(&tracepb.FileImage{Path: "relative/path", Exists: true})
	add(&tracepb.FileImage{Path: "/proc/self/mem", Exists: true})
	r := &restorer{layers: []Layer{{Lower: lower, Upper: upper}}, images: im, root: true}
	r.restoreAll(nil)

	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(upper, "created"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("no whiteout for a file the recording created: %v %#o", err, st.Mode)
	}
	if b, err := os.ReadFile(filepath.Join(upper, "deleted")); err != nil || string(b) != string(data) {
		t.Errorf("deleted file not restored: %q %v", b, err)
	}
	if unix.Lstat(filepath.Join(upper, "deleted"), &st) == nil && st.Mode&0o7777 != 0o640 {
		t.Errorf("mode %#o, want 0640", st.Mode&0o7777)
	}
	if _, err := os.Lstat(filepath.Join(upper, "same")); !os.IsNotExist(err) {
		t.Errorf("an unchanged file was copied up: %v", err)
	}
	if info, err := os.Stat(filepath.Join(upper, "dir", "sub")); err != nil || !info.IsDir() {
		t.Errorf("directory not restored: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(outside, "pwned")); !os.IsNotExist(err) {
		t.Fatalf("a pre-image was written through a link out of the layer: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(upper, "wrongdigest")); !os.IsNotExist(err) {
		t.Errorf("contents that do not match their digest were restored: %v", err)
	}
	problems := strings.Join(r.problems, "\n")
	for _, want := range []string{"esc/pwned", "wrongdigest", `"relative/path"`, `"/proc/self/mem"`} {
		if !strings.Contains(problems, want) {
			t.Errorf("problems do not name %s:\n%s", want, problems)
		}
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCheckKeepDir: a --keep-fs directory's parent must exist, and it
// must be new or empty.
func TestCheckKeepDir(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "full", "x"), "x")
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		ok   bool
	}{
		{filepath.Join(dir, "new"), true},
		{filepath.Join(dir, "empty"), true},
		{filepath.Join(dir, "full"), false},
		{filepath.Join(dir, "no", "parent"), false},
	}
	for _, tc := range tests {
		if err := CheckKeepDir(tc.path); (err == nil) != tc.ok {
			t.Errorf("CheckKeepDir(%s) = %v, want ok=%v", tc.path, err, tc.ok)
		}
	}
}
