package replay

import "testing"

func TestPidMap(t *testing.T) {
	m := newPidMap()
	m.setRecorded(100, "1")
	m.setRecorded(101, "1.1")
	m.setReal(5000, "1")
	m.setReal(5007, "1.1")
	m.setReal(5010, "1.2") // a process the recording did not have
	tests := []struct {
		real int
		want int32
	}{
		{5000, 100}, {5007, 101},
		{5010, firstVirtualPid}, // new: the first virtual pid
		{5010, firstVirtualPid}, // and the same one again
		{4242, 4242},            // not a tracee: as it is
	}
	for _, tc := range tests {
		if got := m.virtual(tc.real); got != tc.want {
			t.Errorf("virtual(%d) = %d, want %d", tc.real, got, tc.want)
		}
	}
	m.setReal(5011, "1.3")
	if got := m.virtual(5011); got != firstVirtualPid+1 {
		t.Errorf("second new process: %d", got)
	}
	if real, ok := m.toReal(firstVirtualPid); !ok || real != 5010 {
		t.Errorf("toReal(virtual) = %d, %v", real, ok)
	}
	if real, ok := m.toReal(101); !ok || real != 5007 {
		t.Errorf("toReal(101) = %d, %v", real, ok)
	}
	if _, ok := m.toReal(999); ok {
		t.Error("toReal of an unknown id")
	}
}
