package record

import (
	"strings"
	"testing"
)

func stars(v string) string { return strings.Repeat("*", len(v)) }

func isToken(name string) bool { return strings.HasSuffix(strings.ToUpper(name), "_TOKEN") }

func TestRedactString(t *testing.T) {
	secrets := []string{"hunter22", "abc"} // "abc" is shorter than MinSecret
	for _, tc := range []struct {
		in     string
		script bool
		want   string
	}{
		{"plain", false, "plain"},
		{"GH_TOKEN=s3cret", false, "GH_TOKEN=******"},
		{"GH_TOKEN=two words", false, "GH_TOKEN=*********"},
		{"GH_TOKEN=x run", true, "GH_TOKEN=* run"},
		{"--gh_token=flag", false, "--gh_token=flag"},
		{"PATH=/bin", false, "PATH=/bin"},
		{"cd /x && GH_TOKEN=s3cret make; echo", true, "cd /x && GH_TOKEN=****** make; echo"},
		{"A_TOKEN='a b c' run", true, "A_TOKEN='*****' run"},
		{`A_TOKEN="q" B_TOKEN=r;`, true, `A_TOKEN="*" B_TOKEN=*;`},
		{"XA_TOKEN=1", true, "XA_TOKEN=*"},
		{"xA_TOKEN=1", true, "xA_TOKEN=*"},
		{"aA_TOKEN", true, "aA_TOKEN"},
		{"=A_TOKEN=1", true, "=A_TOKEN=1"}, // not after a blank or separator
		{"Bearer hunter22.", false, "Bearer ********."},
		{"hunter22hunter22", false, "****************"},
		{"abc abc", false, "abc abc"},
		{"GH_TOKEN=", false, "GH_TOKEN="},
		{"GH_TOKEN=hunter22 hunter22", true, "GH_TOKEN=******** ********"},
	} {
		if got := RedactString(tc.in, tc.script, isToken, secrets, stars); got != tc.want {
			t.Errorf("RedactString(%q, %v) = %q, want %q", tc.in, tc.script, got, tc.want)
		}
	}
}

// FuzzRedactString: with a length-keeping replacement the string keeps its
// length (an exec's captured strings stay where they were), the secret is
// never left in it, and nothing else than bytes of values changes.
func FuzzRedactString(f *testing.F) {
	for _, s := range []string{"GH_TOKEN=s3cret", "sh -c 'A_TOKEN=\"x y\" z'", "Bearer hunter22", "a;B_TOKEN=1|c"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, script bool) {
		got := RedactString(s, script, isToken, []string{"hunter22"}, stars)
		if len(got) != len(s) {
			t.Fatalf("%q -> %q: length changed", s, got)
		}
		if strings.Contains(got, "hunter22") {
			t.Fatalf("%q -> %q: the secret is left", s, got)
		}
		for i := range s {
			if got[i] != s[i] && got[i] != '*' {
				t.Fatalf("%q -> %q: byte %d changed to %q", s, got, i, got[i])
			}
		}
	})
}
