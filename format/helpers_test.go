package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/hermes-trace/hermes/format/tracepb"
)

func testHeader() *tracepb.TraceHeader {
	return &tracepb.TraceHeader{
		Argv:            []string{"/bin/true", "--flag"},
		Env:             []string{"PATH=/usr/bin", "HOME=/root"},
		Cwd:             "/tmp",
		Arch:            "x86_64",
		KernelRelease:   "6.1.0-test",
		StartTimeUnixNs: 1700000000123456789,
		HermesVersion:   "test",
		Seed:            42,
		Tool:            "hermes record",
		Extra:           map[string]string{"k": "v"},
	}
}

// x86_64 user_regs_struct word indexes.
const (
	rR11 = 6
	rR10 = 7
	rR8  = 9
	rRAX = 10
	rRCX = 11
	rRDX = 12
	rRSI = 13
	rRDI = 14
	rOrg = 15
	rRIP = 16
	rRSP = 19
	nReg = 27
)

// regsGen produces register snapshots that evolve like a real thread's.
type regsGen struct {
	rng   *rand.Rand
	regs  map[int32][]byte
	sites []uint64
}

func newRegsGen(seed int64) *regsGen {
	g := &regsGen{rng: rand.New(rand.NewSource(seed)), regs: map[int32][]byte{}}
	for i := 0; i < 12; i++ {
		g.sites = append(g.sites, 0x7f3a1c000000+uint64(g.rng.Intn(1<<20))&^0xf)
	}
	return g
}

func put(b []byte, w int, v uint64) { binary.LittleEndian.PutUint64(b[w*8:], v) }

// next returns fresh entry registers for tid making syscall nr.
func (g *regsGen) next(tid int32, nr int32) []byte { return bytes.Clone(g.step(tid, nr)) }

// step advances tid's registers and returns them (not a copy).
func (g *regsGen) step(tid int32, nr int32) []byte {
	r := g.regs[tid]
	if r == nil {
		r = make([]byte, nReg*8)
		for w := 0; w < nReg; w++ {
			put(r, w, g.rng.Uint64()>>g.rng.Intn(64))
		}
		put(r, rRSP, 0x7ffd12340000+uint64(tid)*0x1000)
		put(r, 17, 0x33)  // cs
		put(r, 18, 0x246) // eflags
		put(r, 20, 0x2b)  // ss
		g.regs[tid] = r
	}
	site := g.sites[g.rng.Intn(len(g.sites))]
	put(r, rRAX, uint64(0xffffffffffffffda)) // -ENOSYS at entry
	put(r, rOrg, uint64(nr))
	put(r, rRIP, site)
	put(r, rRCX, site)
	put(r, rR11, 0x246)
	put(r, rRDI, uint64(g.rng.Intn(16)))
	put(r, rRSI, 0x7ffd12300000+uint64(g.rng.Intn(4096))*8)
	put(r, rRDX, uint64(g.rng.Intn(8192)))
	if g.rng.Intn(4) == 0 {
		put(r, rR10, uint64(g.rng.Intn(1<<16)))
		put(r, rR8, g.rng.Uint64())
	}
	return r
}

// genEvents makes n events of every kind, seq 1..n. Times mostly increase;
// some calls block so enter times are out of order now and then.
func genEvents(n int, seed int64) []*tracepb.Event {
	g := newRegsGen(seed)
	rng := g.rng
	evs := make([]*tracepb.Event, 0, n)
	now := int64(1000)
	tids := []int32{100, 101, 102, 205}
	for i := 0; i < n; i++ {
		seq := uint64(i + 1)
		now += int64(rng.Intn(40000))
		tid := tids[rng.Intn(len(tids))]
		pid := tid
		if tid == 101 || tid == 102 {
			pid = 100
		}
		if rng.Intn(20) == 0 {
			kinds := []tracepb.ProcessKind{tracepb.ProcessKind_PROCESS_KIND_FORK, tracepb.ProcessKind_PROCESS_KIND_THREAD,
				tracepb.ProcessKind_PROCESS_KIND_EXEC, tracepb.ProcessKind_PROCESS_KIND_EXIT,
				tracepb.ProcessKind_PROCESS_KIND_SIGNAL, tracepb.ProcessKind_PROCESS_KIND_STOP}
			p := &tracepb.Process{
				Kind: kinds[rng.Intn(len(kinds))], Seq: seq, Lineage: strconv.Itoa(int(pid)), Pid: pid, Tid: tid,
				ChildLineage: strconv.Itoa(rng.Intn(1000)), ChildPid: int32(rng.Intn(30000)), Signal: int32(rng.Intn(64)),
				ExitStatus: int32(rng.Intn(256)), Core: rng.Intn(2) == 0, ExecPath: "/usr/bin/x",
				OldTid: tid, TimeNs: now, CloneFlags: 0x3d0f00,
			}
			if p.Kind == tracepb.ProcessKind_PROCESS_KIND_SIGNAL {
				p.Siginfo = make([]byte, 128)
				rng.Read(p.Siginfo[:16])
			}
			evs = append(evs, &tracepb.Event{Kind: &tracepb.Event_Process{Process: p}})
			continue
		}
		nr := int32(rng.Intn(335))
		enter := now
		if rng.Intn(30) == 0 {
			enter -= int64(rng.Intn(2000000)) // a call that blocked
		}
		sc := &tracepb.Syscall{
			Seq: seq, Lineage: strconv.Itoa(int(pid)), Pid: pid, Tid: tid, Nr: nr,
			EnterNs: enter, ExitNs: now + int64(rng.Intn(30000)),
			Regs: g.next(tid, nr), Ret: int64(rng.Intn(5000)) - 100,
		}
		switch rng.Intn(10) {
		case 0:
			sc.Arch = tracepb.Arch_ARCH_I386
		case 1:
			sc.ExitRegs = bytes.Clone(sc.Regs)
			put(sc.ExitRegs, rRAX, uint64(sc.Ret))
			put(sc.ExitRegs, rRSI, 12345)
		case 2:
			sc.Exited = true
		case 3:
			sc.EntryOnly = true
		case 4:
			sc.Regs = nil // not captured
		}
		if rng.Intn(2) == 0 {
			d := make([]byte, rng.Intn(300))
			rng.Read(d)
			sc.Mem = append(sc.Mem, &tracepb.Mem{Addr: rng.Uint64(), Data: d, Kind: tracepb.MemKind(rng.Intn(2)), Arg: uint32(rng.Intn(6))})
		}
		if rng.Intn(15) == 0 {
			actions := []tracepb.Action{tracepb.Action_ACTION_DENY, tracepb.Action_ACTION_RETURN, tracepb.Action_ACTION_EMULATE,
				tracepb.Action_ACTION_MODIFY, tracepb.Action_ACTION_DELAY, tracepb.Action_ACTION_SIGNAL, tracepb.Action_ACTION_KILL}
			sc.Injected = &tracepb.Injected{
				By: "policy.lua:3", Action: actions[rng.Intn(len(actions))], Value: -28,
				Writes:  []*tracepb.Mem{{Addr: 0x1000, Data: []byte("hello"), Kind: tracepb.MemKind_MEM_KIND_OUT}},
				DelayNs: 5000, Signal: 10, SetArgs: 0b101, Args: []uint64{1, 0, 3}, Note: "n",
			}
		}
		evs = append(evs, &tracepb.Event{Kind: &tracepb.Event_Syscall{Syscall: sc}})
	}
	return evs
}

func writeTrace(t testing.TB, path string, evs []*tracepb.Event, opts WriterOptions) {
	t.Helper()
	w, err := Create(path, testHeader(), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if err := w.Append(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// readAll reads every event of r.
func readAll(t testing.TB, r *Reader) []*tracepb.Event {
	t.Helper()
	var out []*tracepb.Event
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
}

// checkPrefix checks that got is a prefix of want, event for event.
func checkPrefix(t testing.TB, got, want []*tracepb.Event) {
	t.Helper()
	if len(got) > len(want) {
		t.Fatalf("read %d events, wrote %d", len(got), len(want))
	}
	for i := range got {
		if !proto.Equal(got[i], want[i]) {
			t.Fatalf("event %d differs:\n got %v\nwant %v", i, got[i], want[i])
		}
	}
}

func tracePath(t testing.TB) string { return filepath.Join(t.TempDir(), "t.trace") }

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func seqOf(ev *tracepb.Event) uint64 { s, _, _ := eventKey(ev); return s }
func timeOf(ev *tracepb.Event) int64 { _, t, _ := eventKey(ev); return t }

// checkSubsequence checks that got is want with some events left out (the
// events of damaged chunks), in order, event for event.
func checkSubsequence(t testing.TB, got, want []*tracepb.Event) {
	t.Helper()
	j := 0
	for i := range got {
		for j < len(want) && seqOf(want[j]) != seqOf(got[i]) {
			j++
		}
		if j == len(want) {
			t.Fatalf("event %d (seq %d) was not written, or is out of order", i, seqOf(got[i]))
		}
		if !proto.Equal(got[i], want[j]) {
			t.Fatalf("event %d differs:\n got %v\nwant %v", i, got[i], want[j])
		}
		j++
	}
}
