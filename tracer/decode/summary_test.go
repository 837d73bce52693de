package decode

import (
	"strings"
	"testing"

	"github.com/hermes-trace/hermes/tracer/abi"
)

func TestSummary(t *testing.T) {
	const (
		closeNr = 3
		writeNr = 1
		statfs  = 137
		futex   = 202
	)
	for _, tc := range []struct {
		name string
		add  func(s *Summary)
		want string
	}{
		{"empty", func(s *Summary) {}, ""},
		{
			// strace -C -e trace=write,close echo hi, as strace 6.1 printed it.
			"strace's", func(s *Summary) {
				for i := 0; i < 19; i++ {
					s.Add(abi.ArchX86_64, closeNr, 208000/19+map[bool]int64{true: 208000 % 19, false: 0}[i == 0], false)
				}
				s.Add(abi.ArchX86_64, writeNr, 20000, false)
			},
			`% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 91.23    0.000208          10        19           close
  8.77    0.000020          20         1           write
------ ----------- ----------- --------- --------- ----------------
100.00    0.000228          11        20           total
`,
		},
		{
			// Equal times keep the syscall order; errors; zero time.
			"ties", func(s *Summary) {
				s.Add(abi.ArchX86_64, futex, 0, false)
				s.Add(abi.ArchX86_64, statfs, 0, true)
				s.Add(abi.ArchX86_64, statfs, -5, true)
			},
			`% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
  0.00    0.000000           0         2         2 statfs
  0.00    0.000000           0         1           futex
------ ----------- ----------- --------- --------- ----------------
100.00    0.000000           0         3         2 total
`,
		},
		{
			// Wide columns grow; other personalities get their own table.
			"wide", func(s *Summary) {
				s.AddRow(abi.ArchX86_64, 332, SummaryRow{Name: "statx", Calls: 12345678901, Errors: 1, Time: 123456789012345})
				s.Add(abi.ArchI386, 4, 1000, false)
				s.Add(abi.ArchX32, 1|abi.X32Bit, 2000, true)
			},
			`% time       seconds  usecs/call       calls    errors syscall
------ ------------- ----------- ----------- --------- ----------------
100.00 123456.789012          10 12345678901         1 statx
------ ------------- ----------- ----------- --------- ----------------
100.00 123456.789012          10 12345678901         1 total
System call usage summary for 32 bit mode:
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
100.00    0.000001           1         1           write
------ ----------- ----------- --------- --------- ----------------
100.00    0.000001           1         1           total
System call usage summary for x32 mode:
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
100.00    0.000002           2         1         1 write
------ ----------- ----------- --------- --------- ----------------
100.00    0.000002           2         1         1 total
`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s Summary
			tc.add(&s)
			var b strings.Builder
			if _, err := s.WriteTo(&b); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), tc.want)
			}
			if s.Empty() != (tc.want == "") {
				t.Errorf("Empty() = %v", s.Empty())
			}
		})
	}
}
