package record

import (
	"encoding/binary"
	"strings"
	"testing"
)

// dirents builds linux_dirent64 records for names.
func dirents(names ...string) []byte {
	var b []byte
	for i, n := range names {
		reclen := (19 + len(n) + 1 + 7) &^ 7
		rec := make([]byte, reclen)
		binary.LittleEndian.PutUint64(rec[0:], uint64(i+1))
		binary.LittleEndian.PutUint64(rec[8:], uint64(i+1))
		binary.LittleEndian.PutUint16(rec[16:], uint16(reclen))
		rec[18] = 8
		copy(rec[19:], n)
		b = append(b, rec...)
	}
	return b
}

func names(b []byte) string {
	var out []string
	for r := 0; r+19 <= len(b); {
		reclen := int(binary.LittleEndian.Uint16(b[r+16:]))
		name := b[r+19 : r+reclen]
		out = append(out, strings.TrimRight(string(name), "\x00"))
		r += reclen
	}
	return strings.Join(out, " ")
}

func TestRemoveDirents(t *testing.T) {
	hide := func(n []byte) bool { return string(n) == "hermes.trace.partial" || string(n) == "hermes.trace" }
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{".", "..", "a.txt"}, ". .. a.txt"},
		{[]string{".", "hermes.trace.partial", "a.txt"}, ". a.txt"},
		{[]string{"hermes.trace", "hermes.trace.partial"}, ""},
		{[]string{"a", "hermes.trace.partial.x", "hermes.trac"}, "a hermes.trace.partial.x hermes.trac"},
	}
	for _, tc := range tests {
		got := names(removeDirents(dirents(tc.in...), hide))
		if got != tc.want {
			t.Errorf("removeDirents(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// A record that claims more than the buffer holds ends the walk.
	b := dirents("a", "b")
	binary.LittleEndian.PutUint16(b[16:], 4000)
	if got := removeDirents(b, hide); len(got) != 0 {
		t.Errorf("a bad record was kept: %q", got)
	}
}
