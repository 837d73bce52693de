package decode

import (
	"bytes"
	"io"
	"strconv"
)

// AppendQuoted appends s as a C string literal the way strace prints it:
// printable ASCII as is, `\"` and `\\`, the escapes \t \n \v \f \r, and
// every other byte in octal, in the shortest form unless the next byte is
// an octal digit ("\1a" but "\0011"). When truncated is set, "..." follows
// the closing quote.
func AppendQuoted(dst []byte, s []byte, truncated bool) []byte {
	dst = append(dst, '"')
	dst = appendEscaped(dst, s, false)
	dst = append(dst, '"')
	if truncated {
		dst = append(dst, "..."...)
	}
	return dst
}

// AppendFDPath appends what a descriptor refers to as strace -y shows it
// between "<" and ">": escaped as AppendQuoted escapes a string, without
// the quotes, and with "<" and ">" in octal too, so that the decoration
// always ends at the first ">".
func AppendFDPath(dst []byte, path string) []byte {
	return appendEscaped(dst, path, true)
}

// appendEscaped appends s escaped as AppendQuoted describes, without the
// quotes; angles puts "<" and ">" in octal too.
func appendEscaped[S []byte | string](dst []byte, s S, angles bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\v':
			dst = append(dst, '\\', 'v')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			if c >= ' ' && c < 0x7f && (!angles || (c != '<' && c != '>')) {
				dst = append(dst, c)
				break
			}
			dst = append(dst, '\\')
			full := i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '7'
			if full || c >= 0100 {
				dst = append(dst, '0'+c>>6)
			}
			if full || c >= 010 {
				dst = append(dst, '0'+(c>>3)&7)
			}
			dst = append(dst, '0'+c&7)
		}
	}
	return dst
}

// appendQuotedHex appends s with every byte as \xNN, as strace prints
// random bytes (getrandom).
func appendQuotedHex(dst []byte, s []byte, truncated bool) []byte {
	const digits = "0123456789abcdef"
	dst = append(dst, '"')
	for _, c := range s {
		dst = append(dst, '\\', 'x', digits[c>>4], digits[c&15])
	}
	dst = append(dst, '"')
	if truncated {
		dst = append(dst, "..."...)
	}
	return dst
}

// ReadString reads the NUL-terminated string at addr into buf (reusing its
// storage) and returns it without the NUL. At most max bytes of string are
// returned; complete reports whether the terminating NUL was found, within
// max+1 bytes, so that a string of exactly max bytes is complete.
//
// The memory is read page by page: one ReadAt never crosses a 4096-byte page
// boundary, so a string that ends just before an unmapped page is read in
// full. When a page cannot be read, ReadString returns what it read before
// it with the error.
func ReadString(mem Memory, addr uint64, max int, buf []byte) (s []byte, complete bool, err error) {
	s = buf[:0]
	if mem == nil {
		return s, false, errNoMemory
	}
	if max < 0 {
		max = 0
	}
	limit := max + 1
	for len(s) < limit {
		n := pageSize - int(addr%pageSize)
		if rem := limit - len(s); n > rem {
			n = rem
		}
		if cap(s)-len(s) < n {
			ns := make([]byte, len(s), len(s)+n)
			copy(ns, s)
			s = ns
		}
		chunk := s[len(s) : len(s)+n]
		got, rerr := mem.ReadAt(chunk, addr)
		if got < 0 {
			got = 0
		}
		if got > n {
			got = n
		}
		if i := bytes.IndexByte(chunk[:got], 0); i >= 0 {
			return s[:len(s)+i], true, nil
		}
		s = s[:len(s)+got]
		if got < n {
			if rerr == nil {
				rerr = io.ErrUnexpectedEOF
			}
			if len(s) > max {
				s = s[:max]
			}
			return s, false, rerr
		}
		addr += uint64(got)
	}
	return s[:max], false, nil
}

// readFull reads len(p) bytes at addr, continuing after short reads that
// make progress. It reports whether all of p was read.
func readFull(mem Memory, p []byte, addr uint64) bool {
	if mem == nil {
		return false
	}
	done := 0
	for done < len(p) {
		n, err := mem.ReadAt(p[done:], addr+uint64(done))
		if n <= 0 {
			return false
		}
		done += n
		if err != nil && done < len(p) {
			return false
		}
	}
	return true
}

func appendInt(dst []byte, v int64) []byte { return strconv.AppendInt(dst, v, 10) }

func appendUint(dst []byte, v uint64) []byte { return strconv.AppendUint(dst, v, 10) }

// appendHexZero appends v as 0x... and 0 as "0" (C's %#lx).
func appendHexZero(dst []byte, v uint64) []byte {
	if v == 0 {
		return append(dst, '0')
	}
	dst = append(dst, '0', 'x')
	return strconv.AppendUint(dst, v, 16)
}

// appendPtr appends a pointer: NULL or 0x....
func appendPtr(dst []byte, v uint64) []byte {
	if v == 0 {
		return append(dst, "NULL"...)
	}
	dst = append(dst, '0', 'x')
	return strconv.AppendUint(dst, v, 16)
}

// appendOctalMode appends a permission mode as C's %#03o: 0644, 000.
func appendOctalMode(dst []byte, v uint64) []byte {
	if v == 0 {
		return append(dst, "000"...)
	}
	if v < 8 {
		return append(dst, '0', '0', byte('0'+v))
	}
	dst = append(dst, '0')
	return strconv.AppendUint(dst, v, 8)
}

// le16, le32, le64 read little-endian integers.
func le16(b []byte) uint16 { _ = b[1]; return uint16(b[0]) | uint16(b[1])<<8 }
func le32(b []byte) uint32 {
	_ = b[3]
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
func le64(b []byte) uint64 { return uint64(le32(b)) | uint64(le32(b[4:]))<<32 }
