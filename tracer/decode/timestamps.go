package decode

import (
	"strconv"
	"time"
)

// Timestamps renders strace's timestamps: -t, -tt and -ttt (the wall
// clock), -r (the time since the previous line) and -T (the time spent in
// the call). Event times are nanoseconds since Start, a Unix time in
// nanoseconds. Its zero value prints nothing.
//
// Lines are printed when a call returns, stamped with the time it was
// made, so a line can be earlier than the one before it (another thread's
// longer call): -r then counts from the latest time printed so far, and
// shows 0 for such a line.
type Timestamps struct {
	Absolute  int   // 0: none; 1: -t (HH:MM:SS); 2: -tt (with µs); 3: -ttt (seconds since the epoch, with µs)
	Relative  bool  // -r
	Durations bool  // -T; the caller appends AppendDuration after the result
	Start     int64 // Unix nanoseconds at event time 0

	latest  int64 // latest event time printed, for -r
	started bool
}

// AppendPrefix appends the timestamps of a line for an event at t, as
// strace puts them after the pid: the wall clock, then -r's time, which is
// "(+ S.UUUUUU)" after a wall clock and bare alone, each followed by a
// space.
func (s *Timestamps) AppendPrefix(dst []byte, t int64) []byte {
	if s == nil {
		return dst
	}
	if s.Absolute > 0 {
		wall := s.Start + t
		if s.Absolute >= 3 {
			dst = appendSeconds(dst, wall, 0)
		} else {
			dst = time.Unix(0, wall).AppendFormat(dst, "15:04:05")
			if s.Absolute == 2 {
				dst = append(dst, '.')
				dst = appendPadded(dst, wall/1000%1000000, 6)
			}
		}
		dst = append(dst, ' ')
	}
	if s.Relative {
		d := int64(0)
		if s.started {
			d = t - s.latest
		}
		if !s.started || t > s.latest {
			s.latest, s.started = t, true
		}
		if s.Absolute > 0 {
			dst = append(dst, "(+"...)
		}
		dst = appendSeconds(dst, d, 6)
		if s.Absolute > 0 {
			dst = append(dst, ')')
		}
		dst = append(dst, ' ')
	}
	return dst
}

// AppendDuration appends -T's " <seconds>" for a call that took d
// nanoseconds, if Durations is set.
func (s *Timestamps) AppendDuration(dst []byte, d int64) []byte {
	if s == nil || !s.Durations {
		return dst
	}
	dst = append(dst, " <"...)
	dst = appendSeconds(dst, d, 0)
	return append(dst, '>')
}

// appendSeconds appends ns as seconds with six decimals (negative as 0),
// the integer part right-aligned in width columns (strace's -r column).
func appendSeconds(dst []byte, ns int64, width int) []byte {
	ns = max(ns, 0)
	var b [24]byte
	n := strconv.AppendInt(b[:0], ns/1e9, 10)
	for i := len(n); i < width; i++ {
		dst = append(dst, ' ')
	}
	dst = append(dst, n...)
	dst = append(dst, '.')
	return appendPadded(dst, ns/1000%1000000, 6)
}

// appendPadded appends v in decimal, zero-padded to digits.
func appendPadded(dst []byte, v int64, digits int) []byte {
	var b [20]byte
	n := strconv.AppendInt(b[:0], v, 10)
	for i := len(n); i < digits; i++ {
		dst = append(dst, '0')
	}
	return append(dst, n...)
}
