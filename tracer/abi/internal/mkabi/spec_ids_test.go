package main

import (
	"slices"
	"strings"
	"testing"
)

func TestParseIDToken(t *testing.T) {
	for _, tc := range []struct {
		tok  string
		want idRef
		err  bool
	}{
		{tok: "0:pid", want: idRef{kind: "pid", arg: 0, off: -1, ifArg: -1}},
		{tok: "ret:msq", want: idRef{kind: "msq", arg: 6, off: -1, out: true, ifArg: -1}},
		{tok: "2:pid@4/out?1=16", want: idRef{kind: "pid", arg: 2, off: 4, out: true, ifArg: 1, ifVal: 16, hasIfCond: true}},
		{tok: "2:pid@0?1=0x8901", want: idRef{kind: "pid", arg: 2, off: 0, ifArg: 1, ifVal: 0x8901, hasIfCond: true}},
		{tok: "7:pid", err: true},
		{tok: "0:uid", err: true},
		{tok: "0:pid/out", err: true},
		{tok: "ret:pid@4", err: true},
		{tok: "0:pid?1", err: true},
		{tok: "pid", err: true},
	} {
		got, err := parseIDToken(tc.tok, 3)
		if (err != nil) != tc.err || (err == nil && got != tc.want) {
			t.Errorf("parseIDToken(%q) = %+v, %v; want %+v, error %v", tc.tok, got, err, tc.want, tc.err)
		}
	}
}

func TestIDSpecsParse(t *testing.T) {
	for name, s := range idSpecs {
		for _, tok := range strings.Fields(s) {
			if strings.HasPrefix(tok, "-") {
				continue
			}
			if _, err := parseIDToken(tok, 6); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}

func FuzzParseIDToken(f *testing.F) {
	for _, s := range []string{"0:pid", "ret:key?0=10", "2:pid@4/out?1=16", "x:y@-1?9=z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		r, err := parseIDToken(tok, 6)
		if err != nil {
			return
		}
		if r.arg < 0 || r.arg > 6 || (r.arg == 6 && (!r.out || r.off >= 0)) || (r.ifArg >= 6) {
			t.Fatalf("parseIDToken(%q) = %+v", tok, r)
		}
	})
}

func TestParseCmdMemToken(t *testing.T) {
	for _, tc := range []struct {
		tok  string
		want []cmdMemRef
		err  bool
	}{
		{tok: "2:32/in?1=6,7", want: []cmdMemRef{
			{arg: 2, size: 32, in: true, ifArg: 1, ifMask: ^uint64(0), ifVal: 6},
			{arg: 2, size: 32, in: true, ifArg: 1, ifMask: ^uint64(0), ifVal: 7}}},
		{tok: "2:8/out?1=0x10", want: []cmdMemRef{{arg: 2, size: 8, out: true, ifArg: 1, ifMask: ^uint64(0), ifVal: 16}}},
		{tok: "0:16/inout?1&0x7f=9", want: []cmdMemRef{{arg: 0, size: 16, in: true, out: true, ifArg: 1, ifMask: 0x7f, ifVal: 9}}},
		{tok: "2:32/in", err: true},
		{tok: "2:32?1=5", err: true},
		{tok: "2:0/in?1=5", err: true},
		{tok: "3:32/in?1=5", err: true},
		{tok: "2:32/up?1=5", err: true},
		{tok: "2:32/in?2=5", err: true},
		{tok: "2:32/in?1&0x7f=0x80", err: true},
		{tok: "2:32/in?1&0=1", err: true},
		{tok: "2:32/in?1=x", err: true},
	} {
		got, err := parseCmdMemToken(tc.tok, 3)
		if (err != nil) != tc.err || (err == nil && !slices.Equal(got, tc.want)) {
			t.Errorf("parseCmdMemToken(%q) = %+v, %v; want %+v, error %v", tc.tok, got, err, tc.want, tc.err)
		}
	}
	for name, s := range cmdMemSpecs {
		for _, tok := range strings.Fields(s) {
			if _, err := parseCmdMemToken(tok, 6); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}
