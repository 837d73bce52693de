// Package savefile is a package whose test saves a file, for running
// go test under hermes's policies (cmd/hermes's TestENOSPCRealPrograms):
// under builtin:enospc with exe=*.test the test binary gets ENOSPC, and the
// toolchain that builds it does not.
//
// The test writes "saved" into $SAVEFILE_DIR (default: a temporary
// directory) and fails with "save: ERROR" if it cannot.
package savefile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSave(t *testing.T) {
	dir := os.Getenv("SAVEFILE_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.WriteFile(filepath.Join(dir, "saved"), []byte("saved\n"), 0o644); err != nil {
		t.Fatalf("save: %v", err)
	}
}
