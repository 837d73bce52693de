package format

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hermes-trace/hermes/format/tracepb"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		n    int
		opts WriterOptions
	}{
		{"empty", 0, WriterOptions{}},
		{"one", 1, WriterOptions{}},
		{"small", 50, WriterOptions{}},
		{"many small chunks", 20000, WriterOptions{ChunkSize: 16 << 10}},
		{"many default chunks", 20000, WriterOptions{}},
		{"full regs", 5000, WriterOptions{ChunkSize: 32 << 10, FullRegs: true}},
		{"one in flight", 5000, WriterOptions{ChunkSize: 4 << 10, MaxInFlight: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs := genEvents(tc.n, int64(tc.n))
			path := tracePath(t)
			writeTrace(t, path, evs, tc.opts)
			if _, err := os.Stat(path + ".partial"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("partial file left behind: %v", err)
			}
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if !proto.Equal(r.Header(), testHeader()) {
				t.Errorf("header %v", r.Header())
			}
			if ma, mi := r.Version(); ma != MajorVersion || mi != MinorVersion {
				t.Errorf("version %d.%d", ma, mi)
			}
			got := readAll(t, r)
			if len(got) != len(evs) {
				t.Fatalf("read %d events, wrote %d", len(got), len(evs))
			}
			checkPrefix(t, got, evs)
			for i, ev := range got {
				if seqOf(ev) != uint64(i+1) {
					t.Fatalf("event %d has seq %d: gap", i, seqOf(ev))
				}
				if sc := ev.GetSyscall(); sc != nil && (sc.RegsDelta != nil || sc.ExitRegsDelta != nil) {
					t.Fatalf("event %d: delta fields leak to the caller", i)
				}
			}
			n, reason, complete := r.Recovered()
			if n != len(evs) || reason != "" || !complete {
				t.Errorf("Recovered() = %d, %q, %v", n, reason, complete)
			}
			if ev, err := r.Next(); ev != nil || err != io.EOF {
				t.Errorf("Next after end = %v, %v", ev, err)
			}
		})
	}
}

// The writer must not keep or change the caller's event: the tracer reuses
// one Event for every call.
func TestAppendReusedEvent(t *testing.T) {
	evs := genEvents(3000, 7)
	path := tracePath(t)
	w, err := Create(path, nil, WriterOptions{ChunkSize: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	var reused tracepb.Event
	for _, ev := range evs {
		proto.Reset(&reused)
		proto.Merge(&reused, ev)
		before := proto.Clone(&reused)
		if err := w.Append(&reused); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(before, &reused) {
			t.Fatal("Append changed the event")
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := readAll(t, r)
	if len(got) != len(evs) {
		t.Fatalf("read %d of %d", len(got), len(evs))
	}
	checkPrefix(t, got, evs)
}

func TestAppendErrors(t *testing.T) {
	w, err := Create(tracePath(t), nil, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc := func(seq uint64) *tracepb.Event {
		return &tracepb.Event{Kind: &tracepb.Event_Syscall{Syscall: &tracepb.Syscall{Seq: seq}}}
	}
	if err := w.Append(&tracepb.Event{}); err == nil {
		t.Error("empty event accepted")
	}
	if err := w.Append(sc(5)); err != nil {
		t.Fatal(err)
	}
	for _, s := range []uint64{5, 4} {
		if err := w.Append(sc(s)); err == nil {
			t.Errorf("seq %d after 5 accepted", s)
		}
	}
	if err := w.Append(sc(9)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Append(sc(10)); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close: %v", err)
	}
	if err := w.Flush(); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close: %v", err)
	}
	if err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}

func TestCreateErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Create(dir, nil, WriterOptions{}); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("Create onto a directory: %v", err)
	}
	if _, err := Create(filepath.Join(dir, "no", "such", "dir", "t"), nil, WriterOptions{}); err == nil {
		t.Error("Create in a missing directory succeeded")
	}
	big := &tracepb.TraceHeader{Env: []string{strings.Repeat("x", MaxHeaderMessage)}}
	if _, err := Create(filepath.Join(dir, "t"), big, WriterOptions{}); err == nil {
		t.Error("oversized header accepted")
	}
}

func TestSeek(t *testing.T) {
	evs := genEvents(6000, 3)
	path := tracePath(t)
	writeTrace(t, path, evs, WriterOptions{ChunkSize: 8 << 10})
	// The same file without its footer: seeking works from the scan.
	data := mustRead(t, path)
	ioff := binary.LittleEndian.Uint64(data[len(data)-trailerSize:])
	nofooter := filepath.Join(t.TempDir(), "t.trace.partial")
	if err := os.WriteFile(nofooter, data[:ioff], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, nofooter} {
		t.Run(filepath.Base(p), func(t *testing.T) {
			r, err := Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if len(r.Chunks()) < 10 {
				t.Fatalf("only %d chunks", len(r.Chunks()))
			}
			var seqs []uint64
			for _, c := range r.Chunks() {
				seqs = append(seqs, c.FirstSeq-1, c.FirstSeq, c.FirstSeq+1)
			}
			seqs = append(seqs, 0, 1, 2, 3000, 5999, 6000, 6001, 1<<40)
			for _, s := range seqs {
				if err := r.SeekSeq(s); err != nil {
					t.Fatal(err)
				}
				ev, err := r.Next()
				want := max(s, 1)
				if want > 6000 {
					if err != io.EOF {
						t.Errorf("SeekSeq(%d): Next = %v, %v; want EOF", s, ev, err)
					}
					continue
				}
				if err != nil || !proto.Equal(ev, evs[want-1]) {
					t.Fatalf("SeekSeq(%d): Next = seq %d, %v", s, seqOf(ev), err)
				}
				// and streaming goes on from there
				ev, err = r.Next()
				if want < 6000 && (err != nil || seqOf(ev) != want+1) {
					t.Fatalf("after SeekSeq(%d): Next = seq %d, %v", s, seqOf(ev), err)
				}
			}
			for _, ns := range []int64{-1, 0, 1000, timeOf(evs[100]), timeOf(evs[2500]) + 1, timeOf(evs[5999]), 1 << 62} {
				want := -1
				for i, ev := range evs {
					if timeOf(ev) >= ns {
						want = i
						break
					}
				}
				if err := r.SeekTime(ns); err != nil {
					t.Fatal(err)
				}
				ev, err := r.Next()
				if want < 0 {
					if err != io.EOF {
						t.Errorf("SeekTime(%d): got seq %d, want EOF", ns, seqOf(ev))
					}
					continue
				}
				if err != nil || !proto.Equal(ev, evs[want]) {
					t.Fatalf("SeekTime(%d): got seq %d (%v), want %d", ns, seqOf(ev), err, want+1)
				}
			}
		})
	}
}

func TestChunkCutBySize(t *testing.T) {
	evs := genEvents(5000, 5)
	for _, size := range []int{1 << 10, 16 << 10, 256 << 10} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			path := tracePath(t)
			w, err := Create(path, nil, WriterOptions{ChunkSize: size, FlushInterval: -1})
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
			st := w.Stats()
			if st.Events != int64(len(evs)) {
				t.Errorf("Stats().Events = %d", st.Events)
			}
			if fi, _ := os.Stat(path); fi.Size() != st.Bytes {
				t.Errorf("Stats().Bytes = %d, file is %d", st.Bytes, fi.Size())
			}
			want := st.RawBytes / int64(size)
			// Each chunk but the last reaches size, and overshoots it by
			// less than one event (< 2 KiB here).
			if st.Chunks < want/2 || st.Chunks > want+1 {
				t.Errorf("%d chunks for %d raw bytes at chunk size %d", st.Chunks, st.RawBytes, size)
			}
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if int64(len(r.Chunks())) != st.Chunks {
				t.Errorf("index lists %d chunks, writer wrote %d", len(r.Chunks()), st.Chunks)
			}
			checkPrefix(t, readAll(t, r), evs)
		})
	}
}

// pollRecovered waits until the partial file holds at least n events.
func pollRecovered(t *testing.T, path string, n int) (int, string, bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		got, reason, complete := r.Recovered()
		r.Close()
		if got >= n || time.Now().After(deadline) {
			return got, reason, complete
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestChunkCutByTime(t *testing.T) {
	evs := genEvents(3, 9)
	path := tracePath(t)
	w, err := Create(path, testHeader(), WriterOptions{FlushInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for i, ev := range evs {
		if err := w.Append(ev); err != nil {
			t.Fatal(err)
		}
		got, reason, complete := pollRecovered(t, path+".partial", i+1)
		if got != i+1 || complete || reason != "no footer: writer did not finish" {
			t.Fatalf("after %d events and a tick: Recovered() = %d, %q, %v", i+1, got, reason, complete)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if len(r.Chunks()) != 3 {
		t.Errorf("%d chunks, want one per tick", len(r.Chunks()))
	}
	checkPrefix(t, readAll(t, r), evs)
}

// A writer that stops without Close (as if killed) leaves every chunk
// flushed before; the reader recovers them and says the file is partial.
func TestAbandonedWriter(t *testing.T) {
	evs := genEvents(3000, 11)
	for _, flushAt := range []int{0, 1, 1000, 2999} {
		t.Run(fmt.Sprint(flushAt), func(t *testing.T) {
			path := tracePath(t)
			w, err := Create(path, testHeader(), WriterOptions{FlushInterval: -1})
			if err != nil {
				t.Fatal(err)
			}
			for i, ev := range evs {
				if i == flushAt {
					if err := w.Flush(); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Append(ev); err != nil {
					t.Fatal(err)
				}
			}
			w.abandon()
			if _, err := os.Stat(path); err == nil {
				t.Fatal("final file exists")
			}
			if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "partial trace") {
				t.Errorf("Open of the final name: %v", err)
			}
			r, err := Open(path + ".partial")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got := readAll(t, r)
			if len(got) != flushAt {
				t.Errorf("recovered %d events, %d were flushed", len(got), flushAt)
			}
			checkPrefix(t, got, evs)
			n, reason, complete := r.Recovered()
			if n != flushAt || complete || reason != "no footer: writer did not finish" {
				t.Errorf("Recovered() = %d, %q, %v", n, reason, complete)
			}
		})
	}
}

// TestKilledWriter kills a real writer process with SIGKILL.
func TestKilledWriter(t *testing.T) {
	if path := os.Getenv("HERMES_FORMAT_TEST_WRITER"); path != "" {
		killedWriterChild(path)
		return
	}
	path := tracePath(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriter$")
	cmd.Env = append(os.Environ(), "HERMES_FORMAT_TEST_WRITER="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child said %q, %v", line, err)
	}
	time.Sleep(100 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	r, err := Open(path + ".partial")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := readAll(t, r)
	n, reason, complete := r.Recovered()
	t.Logf("recovered %d events: %s", n, reason)
	if len(got) < 3000 || n != len(got) || complete || reason == "" {
		t.Fatalf("read %d events; Recovered() = %d, %q, %v", len(got), n, reason, complete)
	}
	for i, ev := range got {
		if seqOf(ev) != uint64(i+1) {
			t.Fatalf("event %d has seq %d", i, seqOf(ev))
		}
	}
	checkPrefix(t, got[:3000], genEvents(3000, 13))
}

func killedWriterChild(path string) {
	w, err := Create(path, testHeader(), WriterOptions{ChunkSize: 16 << 10, FlushInterval: 10 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	evs := genEvents(3000, 13)
	for _, ev := range evs {
		if err := w.Append(ev); err != nil {
			os.Exit(1)
		}
	}
	w.Flush()
	fmt.Println("ready")
	ev := &tracepb.Event{Kind: &tracepb.Event_Syscall{Syscall: &tracepb.Syscall{Tid: 1, Regs: make([]byte, 216)}}}
	for seq := uint64(3001); ; seq++ {
		ev.GetSyscall().Seq = seq
		ev.GetSyscall().EnterNs = int64(seq)
		if err := w.Append(ev); err != nil {
			os.Exit(1)
		}
	}
}

// fixHeaderCRC rewrites the version and the header CRC of a trace.
func withVersion(data []byte, major, minor uint16) []byte {
	b := bytes.Clone(data)
	binary.LittleEndian.PutUint16(b[8:], major)
	binary.LittleEndian.PutUint16(b[10:], minor)
	end := fileHeaderFixed + int(binary.LittleEndian.Uint32(b[12:]))
	binary.LittleEndian.PutUint32(b[end:], crc32.Checksum(b[:end], castagnoli))
	return b
}

func TestVersions(t *testing.T) {
	evs := genEvents(100, 17)
	path := tracePath(t)
	writeTrace(t, path, evs, WriterOptions{})
	data := mustRead(t, path)

	newer := filepath.Join(t.TempDir(), "newer.trace")
	os.WriteFile(newer, withVersion(data, 2, 3), 0o644)
	_, err := Open(newer)
	var ve *VersionError
	if !errors.Is(err, ErrNewerVersion) || !errors.As(err, &ve) ||
		!strings.Contains(err.Error(), "trace version 2.3 is newer than this hermes reads (1.x)") {
		t.Errorf("newer major: %v", err)
	}

	minor := filepath.Join(t.TempDir(), "minor.trace")
	os.WriteFile(minor, withVersion(data, 1, 99), 0o644)
	r, err := Open(minor)
	if err != nil {
		t.Fatalf("newer minor refused: %v", err)
	}
	defer r.Close()
	if ma, mi := r.Version(); ma != 1 || mi != 99 {
		t.Errorf("version %d.%d", ma, mi)
	}
	checkPrefix(t, readAll(t, r), evs)
	if n, _, complete := r.Recovered(); n != len(evs) || !complete {
		t.Errorf("newer minor: recovered %d, complete %v", n, complete)
	}

	zero := filepath.Join(t.TempDir(), "zero.trace")
	os.WriteFile(zero, withVersion(data, 0, 1), 0o644)
	if _, err := Open(zero); !errors.Is(err, ErrCorrupt) {
		t.Errorf("version 0: %v", err)
	}
}

// A newer minor version may add fields and chunk types: an old reader
// skips them.
func TestForwardCompatible(t *testing.T) {
	evs := genEvents(200, 19)
	path := tracePath(t)
	writeTrace(t, path, evs, WriterOptions{ChunkSize: 4 << 10})
	data := mustRead(t, path)
	ioff := binary.LittleEndian.Uint64(data[len(data)-trailerSize:])
	// Insert an unknown chunk type after the first events chunk and drop
	// the footer (offsets would move): the scan must skip it.
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	second := r.Chunks()[1].Offset
	unknown := make([]byte, chunkHeaderSize+5)
	h := chunkHeader{typ: 9, clen: 5, ulen: 5}
	h.put(unknown)
	copy(unknown[chunkHeaderSize:], "hello")
	sealChunk(unknown)
	var b []byte
	b = append(b, data[:second]...)
	b = append(b, unknown...)
	b = append(b, data[second:ioff]...)
	r, err = NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, r)
	if len(got) != len(evs) {
		t.Fatalf("read %d of %d", len(got), len(evs))
	}
	checkPrefix(t, got, evs)

	// An event with an unknown field (a newer minor) decodes.
	ev := proto.Clone(evs[0]).(*tracepb.Event)
	raw, _ := proto.Marshal(ev)
	raw = protoAppendUnknown(raw)
	var back tracepb.Event
	if err := proto.Unmarshal(raw, &back); err != nil || seqOf(&back) != seqOf(ev) {
		t.Errorf("unknown field: %v", err)
	}
}

// protoAppendUnknown appends field 999, varint 1.
func protoAppendUnknown(b []byte) []byte {
	b = binary.AppendUvarint(b, 999<<3) // wire type 0: varint
	return append(b, 1)
}

func TestNotATrace(t *testing.T) {
	dir := t.TempDir()
	valid := tracePath(t)
	writeTrace(t, valid, genEvents(10, 1), WriterOptions{})
	data := mustRead(t, valid)
	hugeHeader := bytes.Clone(data[:fileHeaderFixed])
	binary.LittleEndian.PutUint32(hugeHeader[12:], 1<<31)
	tests := []struct {
		name    string
		content []byte
		want    error
		msg     string
	}{
		{"empty", nil, ErrNotTrace, "empty file"},
		{"text", []byte("hello, this is not a trace\n"), ErrNotTrace, "not a hermes trace"},
		{"short text", []byte("#!"), ErrNotTrace, "not a hermes trace"},
		{"magic only", []byte("HERMTRC\x00"), ErrCorrupt, "truncated header"},
		{"half magic", []byte("HERM"), ErrCorrupt, "truncated header"},
		{"huge header length", hugeHeader, ErrCorrupt, "over the"},
		{"truncated header", data[:fileHeaderFixed+3], ErrCorrupt, "truncated header"},
		{"bad header crc", append(bytes.Clone(data[:20]), data[20:]...), nil, ""},
	}
	tests[len(tests)-1].content[fileHeaderFixed+2] ^= 0x40
	tests[len(tests)-1].want, tests[len(tests)-1].msg = ErrCorrupt, "bad header CRC"
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			if err := os.WriteFile(p, tc.content, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Open(p)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Open: %v; want %v mentioning %q", err, tc.want, tc.msg)
			}
		})
	}
	if _, err := Open(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
}

// Every prefix of a trace: the reader never panics and recovers exactly
// the chunks that are whole in the prefix.
func TestTruncateEverywhere(t *testing.T) {
	evs := genEvents(50, 23)
	path := tracePath(t)
	writeTrace(t, path, evs, WriterOptions{ChunkSize: 1 << 10})
	data := mustRead(t, path)
	full, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	chunks := full.Chunks()
	if len(chunks) < 4 {
		t.Fatalf("only %d chunks", len(chunks))
	}
	headerEnd := chunks[0].Offset
	for l := 0; l <= len(data); l++ {
		r, err := NewReader(bytes.NewReader(data[:l]), int64(l))
		if l < int(headerEnd) {
			if err == nil {
				t.Fatalf("prefix %d: header accepted", l)
			}
			continue
		}
		if err != nil {
			t.Fatalf("prefix %d: %v", l, err)
		}
		got := readAll(t, r)
		checkPrefix(t, got, evs)
		want := 0
		for i, c := range chunks {
			var end int64
			if i+1 < len(chunks) {
				end = chunks[i+1].Offset
			} else {
				end = int64(binary.LittleEndian.Uint64(data[len(data)-trailerSize:]))
			}
			if end <= int64(l) {
				want += int(c.Count)
			}
		}
		n, reason, complete := r.Recovered()
		if len(got) != want || n != want {
			t.Fatalf("prefix %d: read %d, Recovered %d, want %d (%s)", l, len(got), n, want, reason)
		}
		if complete != (l == len(data)) || (reason == "") != complete {
			t.Fatalf("prefix %d: complete %v, reason %q", l, complete, reason)
		}
	}
}

// Flip every bit of a small trace: Open fails, or what is read is what was
// written less the damaged chunks (never a wrong event), and the loss is
// reported.
func TestBitFlips(t *testing.T) {
	evs := genEvents(25, 29)
	path := tracePath(t)
	writeTrace(t, path, evs, WriterOptions{ChunkSize: 1 << 10})
	data := mustRead(t, path)
	b := bytes.Clone(data)
	// Every bit of the header, the first chunk header and the footer;
	// one bit of every other byte.
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	allBits := func(i int) bool {
		off := int64(i / 8)
		return off < r.Chunks()[0].Offset+chunkHeaderSize || off >= r.Chunks()[len(r.Chunks())-1].Offset
	}
	for i := 0; i < len(b)*8; i++ {
		if !allBits(i) && i%8 != (i/8)%8 {
			continue
		}
		b[i/8] ^= 1 << (i % 8)
		r, err := NewReader(bytes.NewReader(b), int64(len(b)))
		if err == nil {
			got := readAll(t, r)
			checkSubsequence(t, got, evs)
			n, reason, complete := r.Recovered()
			if n != len(got) || (complete && len(got) != len(evs)) || (reason == "") != complete {
				t.Fatalf("bit %d: read %d, Recovered() = %d, %q, %v", i, len(got), n, reason, complete)
			}
			if len(r.Damage()) == 0 {
				checkPrefix(t, got, evs)
			}
			for _, s := range []uint64{0, 20, 1000} {
				r.SeekSeq(s)
				r.Next()
			}
		}
		b[i/8] ^= 1 << (i % 8)
	}
}

// A damaged chunk in the middle of a file with an index: it is skipped,
// the chunks after it are read, and the loss is reported.
func TestDamagedChunkWithIndex(t *testing.T) {
	evs := genEvents(2000, 31)
	path := tracePath(t)
	writeTrace(t, path, evs, WriterOptions{ChunkSize: 8 << 10})
	data := mustRead(t, path)
	r, _ := NewReader(bytes.NewReader(data), int64(len(data)))
	chunks := r.Chunks()
	c := chunks[3]
	data[c.Offset+chunkHeaderSize+10] ^= 0xff
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, r)
	want := append(evs[:c.FirstSeq-1:c.FirstSeq-1], evs[c.FirstSeq-1+uint64(c.Count):]...)
	checkPrefix(t, got, want)
	n, reason, complete := r.Recovered()
	wantDamage := []Damage{{Offset: c.Offset, End: chunks[4].Offset, Events: int(c.Count), Reason: fmt.Sprintf("bad CRC in chunk at offset %d", c.Offset)}}
	if len(got) != len(want) || n != len(want) || complete || !reflect.DeepEqual(r.Damage(), wantDamage) ||
		reason != fmt.Sprintf("skipped 1 damaged part, %d events lost: bytes %d-%d: bad CRC in chunk at offset %d", c.Count, c.Offset, chunks[4].Offset, c.Offset) {
		t.Errorf("read %d; Recovered() = %d, %q, %v; Damage() = %+v; want %d", len(got), n, reason, complete, r.Damage(), len(want))
	}
	if len(r.Chunks()) != len(chunks)-1 {
		t.Errorf("%d chunks readable, want %d", len(r.Chunks()), len(chunks)-1)
	}
	// Seeking into the damage lands after it; before it works.
	r, _ = NewReader(bytes.NewReader(data), int64(len(data)))
	if err := r.SeekSeq(c.FirstSeq + 1); err != nil {
		t.Errorf("SeekSeq into damage: %v", err)
	}
	if ev, err := r.Next(); err != nil || seqOf(ev) != chunks[4].FirstSeq {
		t.Errorf("after SeekSeq into damage: %v, %v; want seq %d", ev, err, chunks[4].FirstSeq)
	}
	if len(r.Damage()) != 1 {
		t.Errorf("Damage() = %+v", r.Damage())
	}
	if err := r.SeekSeq(5); err != nil {
		t.Errorf("SeekSeq before damage: %v", err)
	}
	if ev, err := r.Next(); err != nil || seqOf(ev) != 5 {
		t.Errorf("after SeekSeq(5): %v, %v", ev, err)
	}
}

// Writing a million events keeps the writer's memory small: the events
// are written by a child process, whose peak RSS (heap, stacks, binary and
// all) must stay under 64 MiB, and whose Go heap in use is checked along
// the way.
func TestMemoryBounded(t *testing.T) {
	if path := os.Getenv("HERMES_FORMAT_TEST_MILLION"); path != "" {
		writeMillion(t, path)
		return
	}
	n := 1000000
	if testing.Short() || raceEnabled {
		n = 100000
	}
	path := tracePath(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestMemoryBounded$", "-test.v")
	cmd.Env = append(os.Environ(), "HERMES_FORMAT_TEST_MILLION="+path, fmt.Sprintf("HERMES_FORMAT_TEST_N=%d", n))
	out, err := cmd.CombinedOutput()
	t.Logf("writer child:\n%s", out)
	if err != nil {
		t.Fatalf("writer child: %v", err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, _, complete := r.Recovered(); got != n || !complete {
		t.Errorf("Recovered %d, %v", got, complete)
	}
}

// peakRSS returns the peak resident set size of this process (VmHWM).
// Not the child's rusage from the parent: os/exec starts a child with
// CLONE_VM, and the kernel counts the parent's high-water mark into the
// child's ru_maxrss at exec.
func peakRSS() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "VmHWM:" && f[2] == "kB" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc/self/status")
}

// writeMillion is TestMemoryBounded's child.
func writeMillion(t *testing.T, path string) {
	n, err := strconv.Atoi(os.Getenv("HERMES_FORMAT_TEST_N"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := Create(path, testHeader(), WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := newRegsGen(1)
	ev, sc := typicalEvent()
	var peak uint64
	var ms runtime.MemStats
	for i := 0; i < n; i++ {
		nextTypical(g, sc, i)
		if err := w.Append(ev); err != nil {
			t.Fatal(err)
		}
		if i%50000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&ms)
	peak = max(peak, ms.HeapInuse)
	st := w.Stats()
	t.Logf("%d events, %d chunks, %d bytes (%.1f bytes/event), peak HeapInuse %.1f MiB",
		st.Events, st.Chunks, st.Bytes, float64(st.Bytes)/float64(st.Events), float64(peak)/(1<<20))
	if peak > 64<<20 {
		t.Errorf("peak HeapInuse %d MiB", peak>>20)
	}
	rss, err := peakRSS()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("peak RSS %.1f MiB", float64(rss)/(1<<20))
	if rss > 64<<20 && !raceEnabled {
		t.Errorf("peak RSS %.1f MiB writing %d events", float64(rss)/(1<<20), n)
	}
}
