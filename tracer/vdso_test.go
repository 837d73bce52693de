package tracer

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"slices"
	"strings"
	"testing"
)

// hostImage reads this process's own vDSO image (no tracee needed: it is
// the image every exec gets).
func hostImage(t *testing.T) []byte {
	t.Helper()
	base, err := HostVDSO()
	if err != nil {
		t.Fatal(err)
	}
	if base == 0 {
		t.Skip("this kernel maps no vDSO (vdso=0?)")
	}
	img, err := wholeVDSO(NewMemory(os.Getpid()), base)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestPlanVDSO checks the plan for the host's vDSO: every function it
// exports that hermes knows gets its stub, once for both of its names,
// and the span written leaves every other byte as it was.
func TestPlanVDSO(t *testing.T) {
	img := hostImage(t)
	if n, err := elfImageSize(img); err != nil || n != len(img) {
		t.Fatalf("elfImageSize = %d, %v; read %d bytes", n, err, len(img))
	}
	p := planVDSO(bytes.Clone(img))
	if p.err != nil {
		t.Fatal(p.err)
	}
	var names []string
	for _, c := range p.patches {
		names = append(names, c.name)
		stub, _ := vdsoStub(c.name)
		if got := p.span[c.off-p.spanOff:][:len(stub)]; !bytes.Equal(got, stub) {
			t.Errorf("%s at %#x: % x, want % x", c.name, c.off, got, stub)
		}
	}
	for _, want := range []string{"clock_gettime", "gettimeofday", "time", "clock_getres", "getcpu"} {
		if !slices.Contains(names, want) {
			t.Errorf("%s not patched (patched: %v)", want, names)
		}
	}
	if len(p.skipped) > 0 {
		t.Logf("left as they are: %v", p.skipped)
	}
	// Outside the stubs the span is the image.
	mask := make([]bool, len(p.span))
	for _, c := range p.patches {
		for i := range c.code {
			mask[c.off-p.spanOff+i] = true
		}
	}
	for i, b := range p.span {
		if !mask[i] && b != img[p.spanOff+i] {
			t.Fatalf("byte %#x changed outside the stubs", p.spanOff+i)
		}
	}
}

// TestPlanVDSOTooShort checks that a function shorter than its stub makes
// the whole image unpatchable (it is hidden instead).
func TestPlanVDSOTooShort(t *testing.T) {
	img := hostImage(t)
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	dynsym, dynstr := f.Section(".dynsym"), f.Section(".dynstr")
	if dynsym == nil || dynstr == nil {
		t.Skip("the vDSO has no section headers for its symbols")
	}
	strs, _ := dynstr.Data()
	done := false
	for off := dynsym.Offset; off+24 <= dynsym.Offset+dynsym.Size; off += 24 {
		name := strs[binary.LittleEndian.Uint32(img[off:]):]
		if strings.HasPrefix(string(name), "__vdso_time\x00") {
			binary.LittleEndian.PutUint64(img[off+16:], 4) // st_size
			done = true
		}
	}
	if !done {
		t.Skip("no __vdso_time")
	}
	p := planVDSO(img)
	if p.err == nil || !strings.Contains(p.err.Error(), "too short") {
		t.Errorf("plan error %v, want one saying __vdso_time is too short", p.err)
	}
}

// TestVDSOPlanCache checks that an image is planned once, and that a
// different image (another first page) gets its own plan.
func TestVDSOPlanCache(t *testing.T) {
	img := hostImage(t)
	vdsoPlans.mu.Lock()
	saved := slices.Clone(vdsoPlans.plans)
	vdsoPlans.mu.Unlock()
	t.Cleanup(func() {
		vdsoPlans.mu.Lock()
		vdsoPlans.plans = saved
		vdsoPlans.mu.Unlock()
	})
	p := vdsoPlanFor(img)
	if q := vdsoPlanFor(bytes.Clone(img)); q != p {
		t.Error("the same image was planned twice")
	}
	if p.key != pageSize {
		t.Errorf("the image is known by its first %d bytes, want the first page (it holds the build ID)", p.key)
	}
	other := bytes.Clone(img)
	other[elf.EI_PAD] ^= 0xff
	if q := vdsoPlanFor(other); q == p {
		t.Error("a different image got the cached plan")
	}
	// The first read of an exec finds it by its first page.
	m := NewMemory(os.Getpid())
	base, _ := HostVDSO()
	if q, err := lookupVDSO(m, base); err != nil || q != p {
		t.Errorf("lookupVDSO = %p, %v; want the plan %p", q, err, p)
	}
	if _, err := elfImageSize([]byte("\x7fELF not really")); err == nil {
		t.Error("elfImageSize accepted garbage")
	}
}
