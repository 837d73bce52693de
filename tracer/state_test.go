package tracer

import (
	"testing"
)

func TestFDTable(t *testing.T) {
	tab := newFDTable()
	tab.Set(3, FD{Path: "/a", Kind: FDFile, known: true})
	tab.Set(4, FD{Path: "/b", Kind: FDFile, Cloexec: true, known: true})
	tab.Set(5, FD{Path: "/c", Kind: FDFile}) // resolved from /proc: flags unknown
	tab.Dup(3, 10, true)
	tab.Dup(4, 11, false) // dup clears close-on-exec unless asked
	tab.Dup(99, 12, false)
	child := tab.clone()
	child.Close(3)
	tab.exec()
	for _, tc := range []struct {
		name string
		t    *FDTable
		fd   int
		path string
		ok   bool
	}{
		{"kept", tab, 3, "/a", true},
		{"cloexec pruned", tab, 4, "", false},
		{"dup3 O_CLOEXEC pruned", tab, 10, "", false},
		{"dup without cloexec kept", tab, 11, "/b", true},
		{"dup of unknown fd forgets", tab, 12, "", false},
		{"flags unknown: forgotten at exec", tab, 5, "", false},
		{"fork copies", child, 4, "/b", true},
		{"child close is private", child, 3, "", false},
	} {
		e, ok := tc.t.Lookup(tc.fd)
		if ok != tc.ok || e.Path != tc.path {
			t.Errorf("%s: fd %d = %+v, %v; want %q, %v", tc.name, tc.fd, e, ok, tc.path, tc.ok)
		}
	}
}

func TestLineage(t *testing.T) {
	p := &Process{Lineage: "1"}
	for i, want := range []string{"1.1", "1.2", "1.3"} {
		if got := p.nextChildLineage(); got != want {
			t.Errorf("child %d: %s, want %s", i, got, want)
		}
	}
	if got := p.nextThreadLineage(); got != "1/t1" {
		t.Errorf("thread: %s", got)
	}
	c := &Process{Lineage: "1.2"}
	c.nextThreadLineage()
	if got := c.nextThreadLineage(); got != "1.2/t2" {
		t.Errorf("thread: %s", got)
	}
}
