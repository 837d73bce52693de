package inject

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Hot reload. A watcher goroutine polls the script file (mtime, size and
// inode, every ReloadInterval: no dependency, and it survives editors that
// replace the file by renaming a new one over it). A changed file is
// compiled in a fresh LState on the watcher goroutine; if that fails, the
// error is printed and the running version stays. A good version is
// published through an atomic pointer and swapped in by the tracer
// goroutine at the start of its next event, so an LState is never used by
// two goroutines at once.

// Reload recompiles the script file now (for SIGHUP) and queues the new
// version for the next event. On error the running version stays and the
// error is also printed on the log. Safe from any goroutine.
func (e *Engine) Reload() error {
	if e.path == "" {
		return errors.New("reload: the script was not loaded from a file")
	}
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	return e.reloadLocked()
}

func (e *Engine) reloadLocked() error {
	src, err := readScript(e.path)
	if err != nil {
		e.write(fmt.Sprintf("hermes: reload %s: %v; keeping the running version\n", e.path, err))
		return err
	}
	s, err := compile(e, e.name, src)
	if err != nil {
		e.write(fmt.Sprintf("hermes: reload failed: %v; keeping the running version\n", err))
		return err
	}
	for _, w := range s.warnings {
		e.write("hermes: " + w + "\n")
	}
	if old := e.next.Swap(s); old != nil {
		old.close() // never reached the tracer goroutine
	}
	return nil
}

type fileStamp struct {
	mtime time.Time
	size  int64
	ino   uint64
}

func stampOf(path string) (fileStamp, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, false
	}
	st := fileStamp{mtime: fi.ModTime(), size: fi.Size()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino = sys.Ino
	}
	return st, true
}

func (e *Engine) watch() {
	e.stopW = make(chan struct{})
	e.doneW = make(chan struct{})
	last, _ := stampOf(e.path)
	go func() {
		defer close(e.doneW)
		tick := time.NewTicker(e.opts.ReloadInterval)
		defer tick.Stop()
		for {
			select {
			case <-e.stopW:
				return
			case <-tick.C:
			}
			st, ok := stampOf(e.path)
			if !ok || st == last {
				continue
			}
			last = st
			e.reloadMu.Lock()
			_ = e.reloadLocked()
			e.reloadMu.Unlock()
		}
	}()
}

func (e *Engine) stopWatch() {
	if e.stopW == nil {
		return
	}
	close(e.stopW)
	<-e.doneW
	e.stopW = nil
}

// swap installs a reloaded version: on the tracer goroutine, between two
// events.
func (e *Engine) swap() {
	s := e.next.Swap(nil)
	if s == nil {
		return
	}
	old := e.cur
	if old != nil {
		if !copyState(s.L, old.state, s.state) {
			e.write(fmt.Sprintf("hermes: reload %s: hermes.state holds over %d values; only part of it was carried over\n", e.name, maxStateCopy))
		}
		old.close()
	}
	e.cur = s
	e.stats.Reloads++
	if s.trapDeclared && e.trap != nil {
		for nr, ok := range s.trapSet {
			if ok && !contains(e.trap, nr) {
				e.write(fmt.Sprintf("hermes: reloaded %s; note: its hermes.trap names calls the filter installed at start does not trap (they will not be seen)\n", e.name))
				return
			}
		}
	}
	e.write(fmt.Sprintf("hermes: reloaded %s\n", e.name))
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// maxStateCopy bounds how many values a hot reload carries over.
const maxStateCopy = 1 << 20

// copyState copies hermes.state from an old LState into a new one: numbers,
// strings, booleans, u64 values and tables of them; functions and other
// userdata (and metatables) are dropped. Keys of the old state overwrite
// what the new version's top level set. Each table is copied once (a
// visited map), so a table reached twice is one table in the copy too,
// cycles are kept, and the work is linear in the size of the state; the
// walk uses a queue, not recursion. It copies at most maxStateCopy values
// and reports false if it had to stop there.
func copyState(to *lua.LState, src, dst *lua.LTable) bool {
	type job struct{ from, to *lua.LTable }
	seen := map[lua.LValue]lua.LValue{src: dst}
	queue := []job{{src, dst}}
	n := 0
	value := func(v lua.LValue) (lua.LValue, bool) {
		switch x := v.(type) {
		case lua.LNumber, lua.LString, lua.LBool:
			return v, true
		case *lua.LUserData:
			if c, ok := seen[v]; ok {
				return c, true
			}
			if u, ok := x.Value.(u64); ok {
				c := newU64(to, uint64(u))
				seen[v] = c
				return c, true
			}
		case *lua.LTable:
			if c, ok := seen[v]; ok {
				return c, true
			}
			t := to.NewTable()
			seen[v] = t
			queue = append(queue, job{x, t})
			return t, true
		}
		return nil, false
	}
	for len(queue) > 0 {
		j := queue[0]
		queue = queue[1:]
		j.from.ForEach(func(k, v lua.LValue) {
			if n++; n > maxStateCopy {
				return
			}
			nk, ok := value(k)
			if !ok {
				return
			}
			if nv, ok := value(v); ok {
				j.to.RawSet(nk, nv)
			}
		})
		if n > maxStateCopy {
			return false
		}
	}
	return true
}
