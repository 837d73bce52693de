package tracer

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// A deterministic run keeps the vDSO visible (a program may look it up
// itself, with getauxval(AT_SYSINFO_EHDR) and its ELF symbols) but makes
// every function it exports enter the kernel, as rr does: at each exec
// stop the first bytes of each function become a stub that makes the
// system call the function stands for. Clock reads, getcpu and getrandom
// then arrive as syscalls the tracer sees, exactly as when the vDSO was
// hidden. Only an image that cannot be patched is still hidden.
//
// The cost at each exec is one read of the image's first page (a
// process_vm_readv), a comparison with the first page of the images seen
// before (it holds the build-ID note), and one write of the patched span
// through /proc/PID/mem: an image is read whole and parsed once per hermes
// process.

// syscallStub is "mov $nr,%eax; syscall; ret": the arguments of every vDSO
// function but getrandom are those of its system call, in the same
// registers, and its result is the syscall's (a negative errno on error,
// as the vDSO's own fallback returns).
func syscallStub(nr int) []byte {
	return []byte{0xb8, byte(nr), byte(nr >> 8), 0, 0, 0x0f, 0x05, 0xc3}
}

// getrandomStub replaces vgetrandom(buf, len, flags, opaque_state,
// opaque_len). It does what the kernel's own vDSO does where it has no
// fast getrandom: the parameter query (opaque_len ~0UL with buf, len and
// flags zero) fails with -ENOSYS, so that glibc and the Go runtime
// allocate no state and use the getrandom syscall from then on; any other
// call is that syscall (the last two arguments are ignored).
var getrandomStub = []byte{
	0x49, 0x83, 0xf8, 0xff, // cmp $-1,%r8
	0x75, 0x16, // jne syscall
	0x48, 0x85, 0xff, // test %rdi,%rdi
	0x75, 0x11, // jne syscall
	0x48, 0x85, 0xf6, // test %rsi,%rsi
	0x75, 0x0c, // jne syscall
	0x85, 0xd2, // test %edx,%edx
	0x75, 0x08, // jne syscall
	0x48, 0xc7, 0xc0, 0xda, 0xff, 0xff, 0xff, // mov $-ENOSYS,%rax
	0xc3,                         // ret
	0xb8, 0x3e, 0x01, 0x00, 0x00, // syscall: mov $SYS_getrandom,%eax
	0x0f, 0x05, // syscall
	0xc3, // ret
}

// vdsoStub returns the stub for an exported vDSO function, named without
// its "__vdso_" prefix; ok is false for a function hermes does not know.
func vdsoStub(name string) (stub []byte, ok bool) {
	switch name {
	case "clock_gettime":
		return syscallStub(unix.SYS_CLOCK_GETTIME), true
	case "gettimeofday":
		return syscallStub(unix.SYS_GETTIMEOFDAY), true
	case "time":
		return syscallStub(unix.SYS_TIME), true
	case "clock_getres":
		return syscallStub(unix.SYS_CLOCK_GETRES), true
	case "getcpu":
		return syscallStub(unix.SYS_GETCPU), true
	case "getrandom":
		return getrandomStub, true
	}
	return nil, false
}

// vdsoQuiet are exported functions left as they are without a warning:
// they read no clock.
var vdsoQuiet = map[string]bool{"sgx_enter_enclave": true}

// vdsoMaxImage bounds the image size an ELF header may claim.
const vdsoMaxImage = 1 << 20

// vdsoPatch is one function's stub, at its offset in the image.
type vdsoPatch struct {
	off  int
	name string
	code []byte
}

// vdsoPlan is how to patch one vDSO image.
type vdsoPlan struct {
	img []byte // the image as the kernel maps it
	// key is the length of the prefix of img that identifies it: the
	// first page, which holds the ELF headers, the symbols and the
	// build-ID note (a hash of the whole image), or all of img where the
	// note is not in the first page.
	key     int
	patches []vdsoPatch
	spanOff int    // offset of span in the image
	span    []byte // the patched image from the first patch to the end of the last
	err     error  // why the image cannot be patched: it is hidden instead
	skipped []string
	warned  bool // under vdsoPlans.mu
}

// vdsoPlans caches plans, for every Tracer of the process: the images
// are one per kernel and ABI, and the same in every process.
var vdsoPlans struct {
	mu    sync.Mutex
	plans []*vdsoPlan // newest first
	head  int         // how much of an image the first read takes: the longest key
}

// ntGNUBuildID is the note type of a GNU build ID.
const ntGNUBuildID = 3

// maxPlans bounds the cache.
const maxPlans = 8

// deterministicExec runs at the exec stop of a deterministic run: it makes
// the new image's vDSO enter the kernel (or, failing that, hides it) and
// returns the address of its AT_RANDOM bytes. 32-bit images are left
// alone.
func (t *Tracer) deterministicExec(th *Thread) (atRandom uint64) {
	a, is64, err := readAuxv(th)
	if err != nil {
		t.logf("%s: reading the auxiliary vector: %v", th.Lineage, err)
	}
	if !is64 || a.vdso == 0 {
		return a.atRandom // no vDSO: clocks are syscalls already
	}
	plan, err := patchVDSO(th, a.vdso)
	if err == nil {
		if plan.warn() {
			t.logf("vDSO functions %s left as they are: their calls will not be recorded", strings.Join(plan.skipped, ", "))
		}
		return a.atRandom
	}
	if plan == nil || plan.warn() {
		t.logf("%s: cannot patch the vDSO (%v): hiding it instead", th.Lineage, err)
	}
	if err := hideVDSO(th, a); err != nil {
		t.logf("%s: hiding the vDSO: %v", th.Lineage, err)
	}
	return a.atRandom
}

// warn reports whether the plan's warning is yet to be given, once per
// hermes process: a plan with an error, or with functions skipped.
func (p *vdsoPlan) warn() bool {
	if p.err == nil && len(p.skipped) == 0 {
		return false
	}
	vdsoPlans.mu.Lock()
	defer vdsoPlans.mu.Unlock()
	w := !p.warned
	p.warned = true
	return w
}

// patchVDSO writes the stubs into the vDSO image at base. It returns the
// plan it used (nil if it found none) and why the image was not patched.
func patchVDSO(th *Thread, base uint64) (*vdsoPlan, error) {
	plan, err := lookupVDSO(th.sc.mem, base)
	if err != nil {
		return nil, err
	}
	if plan.err != nil {
		return plan, plan.err
	}
	return plan, writeVDSO(th, base, plan)
}

// lookupVDSO returns the plan for the image at base. An exec costs one
// read of its first page (each page of the vDSO read or written is
// faulted in then, some microseconds each): the whole image is read, and
// parsed, only when it is not one seen before.
func lookupVDSO(mem *Memory, base uint64) (*vdsoPlan, error) {
	vdsoPlans.mu.Lock()
	n := max(vdsoPlans.head, pageSize)
	vdsoPlans.mu.Unlock()
	buf := make([]byte, n)
	got, err := mem.ReadAt(buf, base) // a short read ends at an unmapped page
	if got < 64 {
		if err == nil {
			err = unix.EFAULT
		}
		return nil, fmt.Errorf("reading the vDSO at %#x: %w", base, err)
	}
	buf = buf[:got]
	vdsoPlans.mu.Lock()
	for _, p := range vdsoPlans.plans {
		if len(buf) >= p.key && bytes.Equal(buf[:p.key], p.img[:p.key]) {
			vdsoPlans.mu.Unlock()
			return p, nil
		}
	}
	vdsoPlans.mu.Unlock()
	img, err := readVDSO(mem, base, buf)
	if err != nil {
		return nil, err
	}
	return vdsoPlanFor(img), nil
}

// readVDSO reads the rest of the vDSO image at base, whose first bytes
// are in head.
func readVDSO(mem *Memory, base uint64, head []byte) ([]byte, error) {
	size, err := elfImageSize(head)
	if err != nil {
		return nil, err
	}
	if size <= len(head) {
		return head[:size], nil
	}
	img := make([]byte, size)
	n := copy(img, head)
	if _, err := mem.ReadAt(img[n:], base+uint64(n)); err != nil {
		return nil, fmt.Errorf("reading the vDSO at %#x: %w", base, err)
	}
	return img, nil
}

// elfImageSize returns the length of the 64-bit ELF file whose start is b:
// the end of its section headers, program headers or loaded segments,
// whichever is last (the program headers must be in b).
func elfImageSize(b []byte) (int, error) {
	if len(b) < 64 || string(b[:4]) != elf.ELFMAG || elf.Class(b[elf.EI_CLASS]) != elf.ELFCLASS64 ||
		elf.Data(b[elf.EI_DATA]) != elf.ELFDATA2LSB {
		return 0, errors.New("the vDSO is not a little-endian 64-bit ELF image")
	}
	le := binary.LittleEndian
	phoff, shoff := le.Uint64(b[0x20:]), le.Uint64(b[0x28:])
	phentsize, phnum := uint64(le.Uint16(b[0x36:])), uint64(le.Uint16(b[0x38:]))
	shentsize, shnum := uint64(le.Uint16(b[0x3a:])), uint64(le.Uint16(b[0x3c:]))
	end := max(phoff+phentsize*phnum, shoff+shentsize*shnum)
	if phentsize < 56 || end > vdsoMaxImage || phoff+phentsize*phnum > uint64(len(b)) {
		return 0, fmt.Errorf("the vDSO's ELF header is not plausible (%d program headers at %#x, %d section headers at %#x)", phnum, phoff, shnum, shoff)
	}
	for i := uint64(0); i < phnum; i++ {
		ph := b[phoff+i*phentsize:]
		if elf.ProgType(le.Uint32(ph)) == elf.PT_LOAD {
			end = max(end, le.Uint64(ph[8:])+le.Uint64(ph[32:])) // p_offset + p_filesz
		}
	}
	if end > vdsoMaxImage {
		return 0, fmt.Errorf("the vDSO claims %d bytes", end)
	}
	return int(end), nil
}

// vdsoPlanFor returns the plan for the whole image img, from the cache or
// made now.
func vdsoPlanFor(img []byte) *vdsoPlan {
	vdsoPlans.mu.Lock()
	defer vdsoPlans.mu.Unlock()
	for _, p := range vdsoPlans.plans {
		if bytes.Equal(p.img, img) {
			return p
		}
	}
	p := planVDSO(bytes.Clone(img))
	if len(vdsoPlans.plans) == maxPlans {
		vdsoPlans.plans = vdsoPlans.plans[:maxPlans-1]
	}
	vdsoPlans.plans = append([]*vdsoPlan{p}, vdsoPlans.plans...)
	vdsoPlans.head = 0
	for _, q := range vdsoPlans.plans {
		vdsoPlans.head = max(vdsoPlans.head, q.key)
	}
	return p
}

// planVDSO finds the functions img exports and where their stubs go.
func planVDSO(img []byte) *vdsoPlan {
	p := &vdsoPlan{img: img, key: len(img)}
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		p.err = fmt.Errorf("parsing the vDSO: %w", err)
		return p
	}
	for _, pr := range f.Progs {
		if pr.Type == elf.PT_NOTE && pr.Off+pr.Filesz <= pageSize && hasBuildID(img[pr.Off:pr.Off+pr.Filesz]) {
			p.key = min(len(img), pageSize)
		}
	}
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 {
		p.err = fmt.Errorf("the vDSO is %v %v, not x86_64", f.Class, f.Machine)
		return p
	}
	syms, err := f.DynamicSymbols()
	if err != nil {
		p.err = fmt.Errorf("reading the vDSO's symbols: %w", err)
		return p
	}
	at := make(map[int]string) // patched offsets, by function name
	for _, s := range syms {
		bind := elf.ST_BIND(s.Info)
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC || s.Section == elf.SHN_UNDEF || (bind != elf.STB_GLOBAL && bind != elf.STB_WEAK) {
			continue
		}
		name := strings.TrimPrefix(s.Name, "__vdso_")
		code, ok := vdsoStub(name)
		if !ok {
			if !vdsoQuiet[name] && !slices.Contains(p.skipped, s.Name) {
				p.skipped = append(p.skipped, s.Name)
			}
			continue
		}
		off, ok := imageOffset(f.Progs, s.Value, len(img))
		if !ok {
			p.err = fmt.Errorf("%s at %#x is outside the image", s.Name, s.Value)
			return p
		}
		if s.Size < uint64(len(code)) || off+len(code) > len(img) {
			p.err = fmt.Errorf("%s is %d bytes, too short for a %d-byte stub", s.Name, s.Size, len(code))
			return p
		}
		if other, dup := at[off]; dup {
			if other != name {
				p.err = fmt.Errorf("%s and %s share an address", other, name)
				return p
			}
			continue // __vdso_X and its alias X
		}
		at[off] = name
		p.patches = append(p.patches, vdsoPatch{off: off, name: name, code: code})
	}
	if len(p.patches) == 0 {
		p.err = errors.New("the vDSO exports no function hermes knows")
		return p
	}
	sort.Slice(p.patches, func(i, j int) bool { return p.patches[i].off < p.patches[j].off })
	for i := 1; i < len(p.patches); i++ {
		if prev := p.patches[i-1]; prev.off+len(prev.code) > p.patches[i].off {
			p.err = fmt.Errorf("the stubs of %s and %s overlap", prev.name, p.patches[i].name)
			return p
		}
	}
	patched := bytes.Clone(img)
	for _, c := range p.patches {
		copy(patched[c.off:], c.code)
	}
	last := p.patches[len(p.patches)-1]
	p.spanOff = p.patches[0].off
	p.span = patched[p.spanOff : last.off+len(last.code)]
	return p
}

// hasBuildID reports whether the notes b hold a GNU build ID.
func hasBuildID(b []byte) bool {
	for len(b) >= 12 {
		namesz, descsz, typ := binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[8:])
		name := (uint64(namesz) + 3) &^ 3
		desc := (uint64(descsz) + 3) &^ 3
		if 12+name+desc > uint64(len(b)) {
			return false
		}
		if typ == ntGNUBuildID && namesz == 4 && string(b[12:16]) == "GNU\x00" && descsz > 0 {
			return true
		}
		b = b[12+name+desc:]
	}
	return false
}

// imageOffset maps a virtual address of the vDSO's link map to an offset
// in its image of n bytes.
func imageOffset(progs []*elf.Prog, vaddr uint64, n int) (int, bool) {
	for _, pr := range progs {
		if pr.Type == elf.PT_LOAD && vaddr >= pr.Vaddr && vaddr-pr.Vaddr < pr.Filesz {
			off := vaddr - pr.Vaddr + pr.Off
			if off < uint64(n) {
				return int(off), true
			}
		}
	}
	return 0, false
}

// writeVDSO writes the plan's span into the image at base with one
// pwrite to /proc/PID/mem, which (like PTRACE_POKEDATA) writes through the
// page protections: the vDSO is read-only, and the write gives the process
// its own copy of the page. Where /proc/PID/mem refuses it (a kernel with
// proc_mem.force_override=never), each stub is poked.
func writeVDSO(th *Thread, base uint64, p *vdsoPlan) error {
	addr := base + uint64(p.spanOff)
	fd, err := unix.Open("/proc/"+strconv.Itoa(th.Tid)+"/mem", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err == nil {
		n, werr := unix.Pwrite(fd, p.span, int64(addr))
		unix.Close(fd)
		if werr == nil && n == len(p.span) {
			return nil
		}
	}
	for _, c := range p.patches {
		if err := th.sc.mem.poke(c.code, base+uint64(c.off)); err != nil {
			return fmt.Errorf("patching %s: %w", c.name, err)
		}
	}
	return nil
}
