package tracer

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"

	"github.com/hermes-trace/hermes/tracer/decode"
	"golang.org/x/sys/unix"
)

// sockNames finds what strace -yy shows of a socket: its protocol (from
// the "system.sockprotoname" attribute of the descriptor) and, through
// the kernel's sock_diag netlink interface, its addresses:
//
//	TCP:[127.0.0.1:41978->127.0.0.1:49745]   connected inet socket
//	TCP:[127.0.0.1:49745]                    bound or listening
//	TCPv6:[[::1]:39457]
//	UNIX-STREAM:[791563->791564]             inode and peer inode
//	UNIX:[791831,"/tmp/sock"]                bound to a path
//	NETLINK:[ROUTE:19588]                    protocol and port id
//	TCP:[791567]                             nothing known yet: the inode
//
// Like strace, it remembers what it found per inode (not what it did not
// find), so a socket keeps the addresses first seen for it.
type sockNames struct {
	cache map[uint64]string
}

// maxSockCache bounds the remembered sockets; the cache is cleared when full.
const maxSockCache = 1024

// inetProtos are the inet protocols sock_diag can look up, by the name
// the kernel gives them.
var inetProtos = map[string]struct{ family, proto uint8 }{
	"TCP": {unix.AF_INET, unix.IPPROTO_TCP}, "UDP": {unix.AF_INET, unix.IPPROTO_UDP},
	"UDPLITE": {unix.AF_INET, unix.IPPROTO_UDPLITE}, "DCCP": {unix.AF_INET, unix.IPPROTO_DCCP},
	"SCTP": {unix.AF_INET, unix.IPPROTO_SCTP}, "L2TP/IP": {unix.AF_INET, unix.IPPROTO_L2TP},
	"PING": {unix.AF_INET, unix.IPPROTO_ICMP}, "RAW": {unix.AF_INET, unix.IPPROTO_RAW},
	"TCPv6": {unix.AF_INET6, unix.IPPROTO_TCP}, "UDPv6": {unix.AF_INET6, unix.IPPROTO_UDP},
	"UDPLITEv6": {unix.AF_INET6, unix.IPPROTO_UDPLITE}, "DCCPv6": {unix.AF_INET6, unix.IPPROTO_DCCP},
	"SCTPv6": {unix.AF_INET6, unix.IPPROTO_SCTP}, "L2TP/IPv6": {unix.AF_INET6, unix.IPPROTO_L2TP},
	"PINGv6": {unix.AF_INET6, unix.IPPROTO_ICMP}, "RAWv6": {unix.AF_INET6, unix.IPPROTO_RAW},
}

// netlinkProtos names netlink protocols as strace does (NETLINK_ stripped).
var netlinkProtos = map[uint8]string{
	0: "ROUTE", 1: "UNUSED", 2: "USERSOCK", 3: "FIREWALL", 4: "SOCK_DIAG", 5: "NFLOG", 6: "XFRM",
	7: "SELINUX", 8: "ISCSI", 9: "AUDIT", 10: "FIB_LOOKUP", 11: "CONNECTOR", 12: "NETFILTER",
	13: "IP6_FW", 14: "DNRTMSG", 15: "KOBJECT_UEVENT", 16: "GENERIC", 18: "SCSITRANSPORT",
	19: "ECRYPTFS", 20: "RDMA", 21: "CRYPTO", 22: "SMC",
}

// details returns the -yy text of the socket inode ino open as link
// (/proc/PID/fd/N), or "" when its protocol is not one strace names.
func (s *sockNames) details(link string, ino uint64) string {
	if s == nil {
		return ""
	}
	if d, ok := s.cache[ino]; ok {
		return d
	}
	var buf [64]byte
	n, err := unix.Getxattr(link, "system.sockprotoname", buf[:])
	if err != nil || n <= 0 {
		return ""
	}
	name := strings.TrimRight(string(buf[:n]), "\x00")
	d := ""
	switch {
	case name == "UNIX" || name == "UNIX-STREAM":
		d = unixDetails(name, ino)
	case name == "NETLINK":
		d = netlinkDetails(name, ino)
	default:
		p, ok := inetProtos[name]
		if !ok {
			return ""
		}
		d = inetDetails(name, p.family, p.proto, ino)
	}
	if d == "" {
		return name + ":[" + strconv.FormatUint(ino, 10) + "]"
	}
	if s.cache == nil || len(s.cache) >= maxSockCache {
		s.cache = make(map[uint64]string)
	}
	s.cache[ino] = d
	return d
}

// Netlink and sock_diag constants (linux/netlink.h, linux/sock_diag.h).
const (
	sockDiagByFamily = 20
	nlmFRequest      = 0x1
	nlmFDump         = 0x300
	nlmsgError       = 0x2
	nlmsgDone        = 0x3
	udiagShowName    = 0x1
	udiagShowPeer    = 0x4
	unixDiagName     = 0
	unixDiagPeer     = 2
	ndiagProtoAll    = 255
	nlmsgHdrLen      = 16
	maxDiagReplies   = 4096 // datagrams read for one lookup, at most
)

// diagQuery sends one sock_diag request and calls parse on the body of
// every reply until it returns a non-empty string, the dump ends or
// something fails.
func diagQuery(flags uint16, req []byte, parse func(body []byte) string) string {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return ""
	}
	defer unix.Close(fd)
	// The tracer thread asks: never wait long for the kernel's answer.
	tv := unix.Timeval{Usec: 200_000}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return ""
	}
	msg := make([]byte, nlmsgHdrLen+len(req))
	binary.LittleEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.LittleEndian.PutUint16(msg[4:], sockDiagByFamily)
	binary.LittleEndian.PutUint16(msg[6:], flags)
	binary.LittleEndian.PutUint32(msg[8:], 1)
	copy(msg[nlmsgHdrLen:], req)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return ""
	}
	rb := make([]byte, 32<<10)
	for range maxDiagReplies {
		n, _, err := unix.Recvfrom(fd, rb, 0)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			return ""
		}
		b := rb[:n]
		for len(b) >= nlmsgHdrLen {
			l := int(binary.LittleEndian.Uint32(b))
			typ := binary.LittleEndian.Uint16(b[4:])
			if l < nlmsgHdrLen || l > len(b) {
				return ""
			}
			switch typ {
			case nlmsgDone, nlmsgError:
				return ""
			case sockDiagByFamily:
				if d := parse(b[nlmsgHdrLen:l]); d != "" {
					return d
				}
			default:
				return ""
			}
			b = b[min((l+3)&^3, len(b)):]
		}
		if flags&unix.NLM_F_DUMP != unix.NLM_F_DUMP {
			return "" // a lookup is answered in one datagram, with no NLMSG_DONE after it
		}
	}
	return ""
}

// inetDetails looks up an inet socket by inode: a dump of the family and
// protocol in every state, as strace does.
func inetDetails(name string, family, proto uint8, ino uint64) string {
	req := make([]byte, 56) // struct inet_diag_req_v2
	req[0], req[1] = family, proto
	binary.LittleEndian.PutUint32(req[4:], 0xffffffff) // idiag_states: all
	return diagQuery(nlmFRequest|nlmFDump, req, func(b []byte) string {
		// struct inet_diag_msg: family, state, timer, retrans, the
		// sockid (sport, dport big-endian, src[16], dst[16], if,
		// cookie[2]), expires, rqueue, wqueue, uid, inode.
		if len(b) < 72 || uint64(binary.LittleEndian.Uint32(b[68:])) != ino {
			return ""
		}
		fam := b[0]
		sport, dport := binary.BigEndian.Uint16(b[4:]), binary.BigEndian.Uint16(b[6:])
		var src, dst netip.Addr
		switch fam {
		case unix.AF_INET:
			src, dst = netip.AddrFrom4([4]byte(b[8:12])), netip.AddrFrom4([4]byte(b[24:28]))
		case unix.AF_INET6:
			src, dst = netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
		default:
			return ""
		}
		out := name + ":[" + inetEndpoint(src, sport)
		if dport != 0 || !dst.IsUnspecified() {
			out += "->" + inetEndpoint(dst, dport)
		}
		return out + "]"
	})
}

// inetEndpoint writes an address and port as strace does: 127.0.0.1:80,
// [::1]:80.
func inetEndpoint(a netip.Addr, port uint16) string {
	s := a.String()
	if a.Is6() {
		s = "[" + s + "]"
	}
	return s + ":" + strconv.Itoa(int(port))
}

// unixDetails looks up a UNIX socket by inode: its peer's inode and the
// path it is bound to, "" when it has neither.
func unixDetails(name string, ino uint64) string {
	req := make([]byte, 24) // struct unix_diag_req
	req[0] = unix.AF_UNIX
	binary.LittleEndian.PutUint32(req[4:], 0xffffffff) // udiag_states
	binary.LittleEndian.PutUint32(req[8:], uint32(ino))
	binary.LittleEndian.PutUint32(req[12:], udiagShowName|udiagShowPeer)
	binary.LittleEndian.PutUint32(req[16:], 0xffffffff) // no cookie
	binary.LittleEndian.PutUint32(req[20:], 0xffffffff)
	return diagQuery(nlmFRequest, req, func(b []byte) string {
		// struct unix_diag_msg: family, type, state, pad, ino, cookie[2];
		// then attributes.
		if len(b) < 16 || b[0] != unix.AF_UNIX || uint64(binary.LittleEndian.Uint32(b[4:])) != ino {
			return ""
		}
		var peer uint32
		var path []byte
		havePath := false
		for a := b[16:]; len(a) >= 4; {
			l := int(binary.LittleEndian.Uint16(a))
			typ := binary.LittleEndian.Uint16(a[2:])
			if l < 4 || l > len(a) {
				break
			}
			switch typ {
			case unixDiagName:
				if !havePath {
					path, havePath = a[4:l], true
				}
			case unixDiagPeer:
				if l >= 8 {
					peer = binary.LittleEndian.Uint32(a[4:])
				}
			}
			a = a[min((l+3)&^3, len(a)):]
		}
		if peer == 0 && len(path) == 0 {
			return ""
		}
		out := name + ":[" + strconv.FormatUint(ino, 10)
		if peer != 0 {
			out += "->" + strconv.FormatUint(uint64(peer), 10)
		}
		if len(path) > 0 {
			out += ","
			if path[0] == 0 {
				out += "@" + quoteSockPath(path[1:])
			} else {
				out += quoteSockPath(path)
			}
		}
		return out + "]"
	})
}

// quoteSockPath quotes a socket path as strace does: up to its first NUL.
func quoteSockPath(p []byte) string {
	for i, c := range p {
		if c == 0 {
			p = p[:i]
			break
		}
	}
	return string(decode.AppendQuoted(nil, p, false))
}

// netlinkDetails looks up a netlink socket by inode: its protocol and
// port id.
func netlinkDetails(name string, ino uint64) string {
	req := make([]byte, 20) // struct netlink_diag_req
	req[0], req[1] = unix.AF_NETLINK, ndiagProtoAll
	return diagQuery(nlmFRequest|nlmFDump, req, func(b []byte) string {
		// struct netlink_diag_msg: family, type, protocol, state, portid,
		// dst_portid, dst_group, ino, cookie[2].
		if len(b) < 28 || uint64(binary.LittleEndian.Uint32(b[16:])) != ino || b[0] != unix.AF_NETLINK {
			return ""
		}
		port := strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[4:])), 10)
		if p, ok := netlinkProtos[b[2]]; ok {
			return name + ":[" + p + ":" + port + "]"
		}
		return name + ":[" + strconv.Itoa(int(b[2])) + "]"
	})
}
