package inject

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestPathFilterAndSplit(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	L.SetGlobal("path_filter", L.NewFunction(luaPathFilter))
	L.SetGlobal("split", L.NewFunction(luaSplit))
	for _, tc := range []struct {
		expr string
		want string
	}{
		{`path_filter("/", "/proc/,/lib/")("/tmp/a")`, "true"},
		{`path_filter("/", "/proc/,/lib/")("/proc/self/maps")`, "false"},
		{`path_filter("/", "/proc/, /lib/")("/lib/libc.so")`, "false"},
		{`path_filter("/data/", "")("/tmp/a")`, "false"},
		{`path_filter("/dev/shm/", "/dev/,/proc/")("/dev/shm/x")`, "true"}, // an exclude covering the prefix is ignored
		{`path_filter("/", "/dev/")(nil)`, "false"},
		{`path_filter("/", "/dev/")(42)`, "false"},
		{`table.concat(split("read, write,pread64"), "|")`, "read|write|pread64"},
		{`#split("")`, "0"},
	} {
		if err := L.DoString("result = tostring(" + tc.expr + ")"); err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if got := L.GetGlobal("result").String(); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
		}
	}
}
