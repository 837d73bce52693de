package decode

import (
	"strconv"
	"testing"
	"time"
)

func TestTimestamps(t *testing.T) {
	start := time.Date(2026, 11, 27, 10, 0, 0, 0, time.Local).UnixNano()
	hms := time.Unix(0, start+1_234_567_890).Format("15:04:05")
	for _, tc := range []struct {
		name  string
		ts    *Timestamps
		times []int64
		want  []string
	}{
		{"nil", nil, []int64{5}, []string{""}},
		{"zero", &Timestamps{}, []int64{5}, []string{""}},
		{"-t", &Timestamps{Absolute: 1, Start: start}, []int64{1_234_567_890}, []string{hms + " "}},
		{"-tt", &Timestamps{Absolute: 2, Start: start}, []int64{1_234_567_890}, []string{hms + ".234567 "}},
		{"-ttt", &Timestamps{Absolute: 3, Start: start}, []int64{1_234_567_890},
			[]string{strconv.FormatInt(time.Unix(0, start+1_234_567_890).Unix(), 10) + ".234567 "}},
		{"-r", &Timestamps{Relative: true}, []int64{1000, 3500, 2_000_003_500, 1_000_000_000, 2_000_004_500},
			// the first line is 0; a line earlier than the one before
			// (another thread's call, printed at exit) shows 0, and the
			// next counts from the latest time printed, not from it.
			[]string{"     0.000000 ", "     0.000002 ", "     2.000000 ", "     0.000000 ", "     0.000001 "}},
		{"-tt -r", &Timestamps{Relative: true, Absolute: 2, Start: start}, []int64{1_234_567_890, 1_234_667_890},
			// strace: 11:38:12.123456 (+     0.000000) write(...
			[]string{hms + ".234567 (+     0.000000) ", hms + ".234667 (+     0.000100) "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i, tm := range tc.times {
				if got := string(tc.ts.AppendPrefix(nil, tm)); got != tc.want[i] {
					t.Errorf("AppendPrefix(%d) = %q, want %q", tm, got, tc.want[i])
				}
			}
		})
	}
	if got := string((&Timestamps{Durations: true}).AppendDuration([]byte("= 0"), 12_345_678)); got != "= 0 <0.012345>" {
		t.Errorf("AppendDuration = %q", got)
	}
	if got := string((&Timestamps{Absolute: 2}).AppendDuration([]byte("= 0"), 12_345_678)); got != "= 0" {
		t.Errorf("AppendDuration without -T = %q", got)
	}
	if (*Timestamps)(nil).AppendDuration(nil, 5) != nil {
		t.Error("nil AppendDuration appended")
	}
}
