package tracer_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/hermes-trace/hermes/internal/testbin"
	"github.com/hermes-trace/hermes/tracer"
)

// stacksOf runs argv and returns, for each write(2), the symbolized
// Syscall.Stack (depth frames at most) taken at its entry.
func stacksOf(t *testing.T, depth int, argv ...string) [][]string {
	t.Helper()
	var out [][]string
	buf := make([]uint64, depth)
	r := &recorder{enter: func(sc *tracer.Syscall, act *tracer.Action) {
		if sc.Name() != "write" {
			return
		}
		pcs := sc.Stack(buf)
		if len(pcs) > depth {
			t.Errorf("Stack gave %d addresses for a buffer of %d", len(pcs), depth)
		}
		var fr []string
		for _, pc := range pcs {
			fr = append(fr, sc.Symbolize(pc))
		}
		out = append(out, fr)
	}}
	run(t, r, tracer.Config{}, argv...)
	return out
}

// TestStack walks the stack at the writes of testdata/c/explorestack
// (built with frame pointers; write is a leaf wrapper in libc) and of a Go
// program: the frames name the C functions that called write, innermost
// first, and Go's main.main, and do not change between runs.
func TestStack(t *testing.T) {
	c := testbin.C(t, "explorestack")
	got := stacksOf(t, 8, c)
	want := [][]string{{"explorestack:save+0x", "explorestack:main+0x"}, {"explorestack:save+0x", "explorestack:relay+0x", "explorestack:main+0x"}}
	if len(got) != len(want) {
		t.Fatalf("%d writes, want %d: %q", len(got), len(want), got)
	}
	for i, w := range want {
		if len(got[i]) < len(w) {
			t.Fatalf("write %d: frames %q, want %q...", i, got[i], w)
		}
		for j, p := range w {
			if !strings.HasPrefix(got[i][j], p) {
				t.Errorf("write %d frame %d = %q, want %s...", i, j, got[i][j], p)
			}
		}
	}
	if again := stacksOf(t, 8, c); !slices.EqualFunc(got, again, slices.Equal) {
		t.Errorf("frames differ between runs:\n%q\n%q", got, again)
	}
	if one := stacksOf(t, 1, c); len(one) != 2 || len(one[0]) != 1 || one[0][0] != got[0][0] {
		t.Errorf("depth 1: %q, want the innermost frame %q", one, got[0][0])
	}
	if none := stacksOf(t, 0, c); len(none) != 2 || len(none[0]) != 0 {
		t.Errorf("depth 0: %q, want no frames", none)
	}

	g := testbin.Go(t, "gohello")
	gs := stacksOf(t, 32, g)
	if len(gs) != 1 || !slices.ContainsFunc(gs[0], func(f string) bool { return strings.HasPrefix(f, "gohello:main.main+0x") }) {
		t.Fatalf("gohello: frames %q, want one write reaching gohello:main.main", gs)
	}
	if again := stacksOf(t, 32, g); !slices.EqualFunc(gs, again, slices.Equal) {
		t.Errorf("gohello: frames differ between runs:\n%q\n%q", gs, again)
	}
}
