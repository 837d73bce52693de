package decode

import (
	"io"
	"sort"
	"strconv"

	"github.com/hermes-trace/hermes/tracer/abi"
)

// Summary counts system calls and prints them as strace -c does: per
// syscall the share of the time, the seconds, microseconds per call, the
// calls and the failed ones, most time first, then a total; one table per
// personality, the 64-bit one first. The zero value is empty and ready.
type Summary struct {
	rows [3][]SummaryRow // by abi.Arch, indexed by number (x32 without its bit)
}

// SummaryRow is one syscall's count.
type SummaryRow struct {
	Name   string
	Calls  uint64
	Errors uint64
	Time   int64 // nanoseconds in the calls
}

// maxSummaryNr bounds the numbers counted per personality.
const maxSummaryNr = 1024

// Add counts one call of syscall nr of arch that took ns nanoseconds;
// failed is set when it returned an error.
func (s *Summary) Add(arch abi.Arch, nr int, ns int64, failed bool) {
	if arch > abi.ArchX32 {
		return
	}
	if arch == abi.ArchX32 {
		nr &^= abi.X32Bit
	}
	if nr < 0 || nr >= maxSummaryNr {
		return
	}
	rows := s.rows[arch]
	if rows == nil {
		rows = make([]SummaryRow, maxSummaryNr)
		s.rows[arch] = rows
	}
	r := &rows[nr]
	if r.Calls == 0 {
		n := nr
		if arch == abi.ArchX32 {
			n |= abi.X32Bit
		}
		r.Name = abi.Name(arch, n)
	}
	r.Calls++
	if failed {
		r.Errors++
	}
	r.Time += max(ns, 0)
}

// AddRow counts calls already summed, under a name (a recorded trace's).
// Rows of the same arch and number add up.
func (s *Summary) AddRow(arch abi.Arch, nr int, r SummaryRow) {
	if arch > abi.ArchX32 || r.Calls == 0 {
		return
	}
	if arch == abi.ArchX32 {
		nr &^= abi.X32Bit
	}
	if nr < 0 || nr >= maxSummaryNr {
		return
	}
	if s.rows[arch] == nil {
		s.rows[arch] = make([]SummaryRow, maxSummaryNr)
	}
	row := &s.rows[arch][nr]
	if row.Calls == 0 {
		row.Name = r.Name
	}
	row.Calls += r.Calls
	row.Errors += r.Errors
	row.Time += max(r.Time, 0)
}

// Empty reports whether nothing was counted.
func (s *Summary) Empty() bool {
	for _, rows := range s.rows {
		for i := range rows {
			if rows[i].Calls > 0 {
				return false
			}
		}
	}
	return true
}

// personalityTitle is strace's heading of the tables after the first.
var personalityTitle = [3]string{
	abi.ArchI386: "System call usage summary for 32 bit mode:\n",
	abi.ArchX32:  "System call usage summary for x32 mode:\n",
}

// WriteTo writes the tables; nothing when nothing was counted, as strace.
func (s *Summary) WriteTo(w io.Writer) (int64, error) {
	var b []byte
	for _, arch := range []abi.Arch{abi.ArchX86_64, abi.ArchI386, abi.ArchX32} {
		var rows []SummaryRow
		for _, r := range s.rows[arch] {
			if r.Calls > 0 {
				rows = append(rows, r)
			}
		}
		if len(rows) == 0 {
			continue
		}
		b = append(b, personalityTitle[arch]...)
		b = AppendSummaryTable(b, rows)
	}
	n, err := w.Write(b)
	return int64(n), err
}

// AppendSummaryTable appends strace -c's table of rows: sorted by time,
// most first (rows of equal time keep their order: by syscall number,
// as strace's), with its column widths and a total row.
func AppendSummaryTable(b []byte, rows []SummaryRow) []byte {
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Time > rows[j].Time })
	var total SummaryRow
	var maxAvg uint64
	nameW := 0
	for _, r := range rows {
		total.Calls += r.Calls
		total.Errors += r.Errors
		total.Time += r.Time
		maxAvg = max(maxAvg, avgUsecs(r.Time, r.Calls))
		nameW = max(nameW, len(r.Name)+1)
	}
	w := [6]int{
		6,
		max(11, len(appendSeconds(nil, total.Time, 0))),
		max(11, len(strconv.FormatUint(maxAvg, 10))),
		max(9, len(strconv.FormatUint(total.Calls, 10))),
		max(9, len(strconv.FormatUint(total.Errors, 10))),
		max(16, nameW),
	}
	heads := [6]string{"% time", "seconds", "usecs/call", "calls", "errors", "syscall"}
	for i, h := range heads {
		if i > 0 {
			b = append(b, ' ')
		}
		if i < 5 {
			b = padLeft(b, h, w[i])
		} else {
			b = append(b, h...)
		}
	}
	b = append(b, '\n')
	b = appendDivider(b, w)
	row := func(b []byte, pct string, r SummaryRow, avg uint64) []byte {
		b = padLeft(b, pct, w[0])
		b = append(b, ' ')
		b = padLeft(b, string(appendSeconds(nil, r.Time, 0)), w[1])
		b = append(b, ' ')
		b = padLeft(b, strconv.FormatUint(avg, 10), w[2])
		b = append(b, ' ')
		b = padLeft(b, strconv.FormatUint(r.Calls, 10), w[3])
		b = append(b, ' ')
		errs := "" // strace's "%.0u": no digits for zero
		if r.Errors > 0 {
			errs = strconv.FormatUint(r.Errors, 10)
		}
		b = padLeft(b, errs, w[4])
		b = append(b, ' ')
		b = append(b, r.Name...)
		return append(b, '\n')
	}
	for _, r := range rows {
		pct := 0.0
		if r.Time != 0 && total.Time != 0 {
			pct = 100 * float64(r.Time) / float64(total.Time)
		}
		b = row(b, strconv.FormatFloat(pct, 'f', 2, 64), r, avgUsecs(r.Time, r.Calls))
	}
	b = appendDivider(b, w)
	total.Name = "total"
	return row(b, "100.00", total, uint64(float64(total.Time)/1e9/float64(total.Calls)*1e6))
}

// avgUsecs is strace's microseconds per call: the mean time, truncated.
func avgUsecs(ns int64, calls uint64) uint64 {
	if calls == 0 {
		return 0
	}
	return uint64(ns) / calls / 1000
}

func padLeft(b []byte, s string, w int) []byte {
	for i := len(s); i < w; i++ {
		b = append(b, ' ')
	}
	return append(b, s...)
}

func appendDivider(b []byte, w [6]int) []byte {
	for i, n := range w {
		if i > 0 {
			b = append(b, ' ')
		}
		for j := 0; j < n; j++ {
			b = append(b, '-')
		}
	}
	return append(b, '\n')
}
