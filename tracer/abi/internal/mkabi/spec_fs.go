package main

import (
	"fmt"
	"strconv"
	"strings"
)

// fsSpecs says which syscalls change the file system, and where: what
// record keeps a pre-image of before the call runs, so that replay can show
// the files as they were when the recording started. Tokens:
//
//	p:N        the path in argument N (relative to the working directory)
//	at:D:N     the path in argument N, relative to the directory fd in argument D
//	           (a NULL path names the descriptor itself, as utimensat has it)
//	fd:N       the file the descriptor in argument N refers to
//	open:N     only when the open flags in argument N create, truncate or write
//	open2:N    the same, for the flags at the start of the struct open_how in argument N
//	mapw       only for a shared mapping with write access (mmap)
//	nofollow   the last component is not followed: the call acts on a link itself
//	tree       a directory it renames is kept with everything below it
//	data       it writes the contents of the file behind fd:N (what a full disk
//	           refuses), not only its name or metadata
//	len:N      (with data) argument N is how many bytes it writes
//	grow:N     (with data) argument N is the file's new size: it writes only
//	           when that grows the file
var fsSpecs = map[string]string{
	"open":            "p:0 open:1",
	"openat":          "at:0:1 open:2",
	"openat2":         "at:0:1 open2:2",
	"creat":           "p:0",
	"truncate":        "p:0",
	"ftruncate":       "fd:0 data grow:1",
	"rename":          "p:0 p:1 nofollow tree",
	"renameat":        "at:0:1 at:2:3 nofollow tree",
	"renameat2":       "at:0:1 at:2:3 nofollow tree",
	"mkdir":           "p:0 nofollow",
	"mkdirat":         "at:0:1 nofollow",
	"rmdir":           "p:0 nofollow",
	"unlink":          "p:0 nofollow",
	"unlinkat":        "at:0:1 nofollow",
	"link":            "p:1 nofollow",
	"linkat":          "at:2:3 nofollow",
	"symlink":         "p:1 nofollow",
	"symlinkat":       "at:1:2 nofollow",
	"mknod":           "p:0 nofollow",
	"mknodat":         "at:0:1 nofollow",
	"chmod":           "p:0",
	"fchmod":          "fd:0",
	"fchmodat":        "at:0:1",
	"fchmodat2":       "at:0:1",
	"chown":           "p:0",
	"fchown":          "fd:0",
	"lchown":          "p:0 nofollow",
	"fchownat":        "at:0:1",
	"utime":           "p:0",
	"utimes":          "p:0",
	"futimesat":       "at:0:1",
	"utimensat":       "at:0:1",
	"setxattr":        "p:0",
	"lsetxattr":       "p:0 nofollow",
	"fsetxattr":       "fd:0",
	"setxattrat":      "at:0:1",
	"removexattr":     "p:0",
	"lremovexattr":    "p:0 nofollow",
	"fremovexattr":    "fd:0",
	"removexattrat":   "at:0:1",
	"fallocate":       "fd:0 data",
	"write":           "fd:0 data len:2",
	"pwrite64":        "fd:0 data len:2",
	"writev":          "fd:0 data",
	"pwritev":         "fd:0 data",
	"pwritev2":        "fd:0 data",
	"copy_file_range": "fd:2 data len:4",
	"sendfile":        "fd:0 data len:3",
	"splice":          "fd:2 data len:4",
	"mmap":            "fd:4 mapw",
}

// fsLiteral renders the FS field of a table entry ("" for none).
func fsLiteral(name string, nargs int) (string, error) {
	s, ok := fsSpecs[name]
	if !ok {
		return "", nil
	}
	arg := func(tok string) (string, error) {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n >= nargs {
			return "", fmt.Errorf("%s: fs spec %q: argument %q out of range", name, s, tok)
		}
		return tok, nil
	}
	var paths []string
	fd, when := "NoArg", "FSAlways"
	var flags []string
	data, dataLen, grow := false, "NoArg", "NoArg"
	for _, tok := range strings.Fields(s) {
		parts := strings.Split(tok, ":")
		switch {
		case parts[0] == "p" && len(parts) == 2:
			n, err := arg(parts[1])
			if err != nil {
				return "", err
			}
			paths = append(paths, fmt.Sprintf("{Dir: NoArg, Path: %s}", n))
		case parts[0] == "at" && len(parts) == 3:
			d, err := arg(parts[1])
			if err != nil {
				return "", err
			}
			n, err := arg(parts[2])
			if err != nil {
				return "", err
			}
			paths = append(paths, fmt.Sprintf("{Dir: %s, Path: %s}", d, n))
		case parts[0] == "fd" && len(parts) == 2:
			n, err := arg(parts[1])
			if err != nil {
				return "", err
			}
			fd = n
		case parts[0] == "open" && len(parts) == 2:
			n, err := arg(parts[1])
			if err != nil {
				return "", err
			}
			when = "FSOpenFlags, WhenArg: " + n
		case parts[0] == "open2" && len(parts) == 2:
			n, err := arg(parts[1])
			if err != nil {
				return "", err
			}
			when = "FSOpenHow, WhenArg: " + n
		case tok == "mapw":
			when = "FSSharedWritable, WhenArg: NoArg"
		case tok == "nofollow":
			flags = append(flags, "NoFollow: true")
		case tok == "tree":
			flags = append(flags, "Tree: true")
		case tok == "data":
			data = true
		case (parts[0] == "len" || parts[0] == "grow") && len(parts) == 2:
			n, err := arg(parts[1])
			if err != nil {
				return "", err
			}
			if parts[0] == "len" {
				dataLen = n
			} else {
				grow = n
			}
		default:
			return "", fmt.Errorf("%s: unknown fs token %q", name, tok)
		}
	}
	if len(paths) > 2 {
		return "", fmt.Errorf("%s: more than two paths", name)
	}
	if (dataLen != "NoArg" || grow != "NoArg") && !data {
		return "", fmt.Errorf("%s: len: and grow: go with data", name)
	}
	if data && fd == "NoArg" {
		return "", fmt.Errorf("%s: data needs the descriptor it writes through (fd:N)", name)
	}
	if data {
		flags = append(flags, fmt.Sprintf("Data: &DataWrite{Len: %s, Grow: %s}", dataLen, grow))
	}
	for len(paths) < 2 {
		paths = append(paths, "{Dir: NoArg, Path: NoArg}")
	}
	if !strings.Contains(when, "WhenArg") {
		when += ", WhenArg: NoArg"
	}
	out := fmt.Sprintf(" FS: &FSEffect{Paths: [2]PathRef{%s, %s}, FD: %s, When: %s", paths[0], paths[1], fd, when)
	for _, f := range flags {
		out += ", " + f
	}
	return out + "},", nil
}
