package run

import (
	"io"
	"strings"
	"testing"

	"github.com/hermes-trace/hermes/inject"
)

// TestInjectBuild: the scripts load in order; a parameter goes to every
// script that declares it, and one that none declares is refused.
func TestInjectBuild(t *testing.T) {
	rule, err := inject.ParseStrace("inject=write:error=ENOSPC")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		in      Inject
		engines int
		err     string // "" for none
	}{
		{"one script", Inject{Scripts: []string{"builtin:enospc"}, Params: map[string]string{"nth": "2"}}, 1, ""},
		{"a typo", Inject{Scripts: []string{"builtin:enospc"}, Params: map[string]string{"nht": "2"}}, 0,
			"parameter nht=2: no script declares nht (builtin:enospc declares comm, errno, exclude, exe, nth, prefix, stdio, sticky)"},
		{"two scripts share a parameter", Inject{Scripts: []string{"builtin:enospc", "builtin:deny-path"},
			Params: map[string]string{"prefix": "/x/", "errno": "EPERM", "nth": "3"}}, 2, ""},
		{"rules take no parameter", Inject{Rules: []inject.Rule{rule}, Params: map[string]string{"a": "b"}}, 0,
			"parameter a=b: there is no script to take it"},
		{"rules alone", Inject{Rules: []inject.Rule{rule}}, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Log = io.Discard
			inj, err := tc.in.build(7, func(string, ...any) {})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer inj.close()
			if len(inj.engines) != tc.engines {
				t.Errorf("%d engines, want %d", len(inj.engines), tc.engines)
			}
			for i, e := range inj.engines {
				if e.Seed() != scriptSeed(7, i) {
					t.Errorf("engine %d: seed %d, want %d", i, e.Seed(), scriptSeed(7, i))
				}
			}
		})
	}
	if scriptSeed(7, 0) != 7 || scriptSeed(7, 1) == 7 || scriptSeed(7, 1) == scriptSeed(7, 2) {
		t.Errorf("seeds %d %d %d", scriptSeed(7, 0), scriptSeed(7, 1), scriptSeed(7, 2))
	}
}
