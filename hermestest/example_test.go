package hermestest_test

import (
	"fmt"

	"github.com/hermes-trace/hermes/hermestest"
)

// A failed test prints the command line that records the run again, with
// its policy and seed.
func ExampleReproducer() {
	fmt.Println(hermestest.Reproducer([]string{"./app", "--out", "my file"},
		hermestest.Options{Policy: "builtin:enospc", Params: map[string]string{"prefix": "/tmp/"}}, 42))
	// Output: hermes record --inject builtin:enospc --param prefix=/tmp/ --seed 42 -- ./app --out 'my file'
}

// In a test:
//
//	res := hermestest.Run(t, []string{"./save", dir + "/out"}, hermestest.Options{
//		Policy: "builtin:enospc",
//		Params: map[string]string{"prefix": dir},
//	})
//	if res.ExitCode != 4 {
//		t.Fatalf("save exited %d on a full disk, want 4", res.ExitCode)
//	}
func ExampleRun() {}
