package replay

// pidMap maps the pids and tids a replay sees to those the recording had,
// through the lineage that names a process or thread in both runs. The
// program sees recorded ids; the kernel is given live ones. A process the
// recording did not have (made after a departure) gets a virtual pid.
type pidMap struct {
	recTid  map[string]int32 // recorded id by lineage
	recLin  map[int32]string // lineage by recorded id
	realTid map[string]int   // live id by lineage
	realLin map[int]string   // lineage by live id
	nextID  int32            // the next virtual id
}

func newPidMap() *pidMap {
	return &pidMap{recTid: make(map[string]int32), recLin: make(map[int32]string),
		realTid: make(map[string]int), realLin: make(map[int]string), nextID: firstVirtualPid}
}

// setRecorded says that lineage had the recorded id.
func (m *pidMap) setRecorded(id int32, lineage string) {
	m.recTid[lineage] = id
	m.recLin[id] = lineage
}

// setReal says that lineage has the live id now.
func (m *pidMap) setReal(id int, lineage string) {
	m.realLin[id] = lineage
	m.realTid[lineage] = id
}

// lineageOf returns the lineage of a live id.
func (m *pidMap) lineageOf(real int) (string, bool) {
	lin, ok := m.realLin[real]
	return lin, ok
}

// toReal maps a recorded id to the live one.
func (m *pidMap) toReal(v int32) (int, bool) {
	lin, ok := m.recLin[v]
	if !ok {
		return 0, false
	}
	tid, ok := m.realTid[lin]
	return tid, ok
}

// toRecorded maps a live id to the recorded one.
func (m *pidMap) toRecorded(v int) (int32, bool) {
	lin, ok := m.realLin[v]
	if !ok {
		return 0, false
	}
	t, ok := m.recTid[lin]
	return t, ok
}

// virtual returns the id the program sees for a live one: the recorded
// one, or a new virtual one for a process the recording did not have (the
// same in every run that makes the same processes in the same order), or
// the live one for what is not a tracee.
func (m *pidMap) virtual(real int) int32 {
	if v, ok := m.toRecorded(real); ok {
		return v
	}
	lin, ok := m.realLin[real]
	if !ok {
		return int32(real)
	}
	v := m.nextID
	m.nextID++
	m.setRecorded(v, lin)
	return v
}
