// Package replay is hermes's replay mode: a tracer handler that re-runs a
// recorded command and makes it see what it saw when it was recorded.
//
// Matching. Every thread is matched to its recorded counterpart by lineage
// ("1", "1.2/t3"), every syscall by its place among the thread's recorded
// calls. Calls whose number in a thread depends on timing (futex, sleeps,
// sched_yield, signal masks, thread starts, anonymous mmap, restart_syscall;
// see isNoise) float: where the recording and the run differ only by such
// calls, the extra ones run and the missing ones are dropped. A call another
// thread of the process made when recorded (a goroutine that moved) is
// taken from that thread. Clock reads are matched per process and clock,
// in order, so time.Now replays whichever thread runs it; past the
// recorded readings time runs on from the last one. Calls a signal
// interrupted are matched with their restart.
//
// Emulation. By default the calls of the classes in Default are skipped
// and given their recorded result and out-memory; see Classes. Pids the
// program sees are the recorded ones; pids it passes are translated back.
// Faults the recording injected are injected again. Everything else runs
// for real and its result (and a file read's data, and a write's data) is
// compared: a difference is a Divergence.
//
// Setting HERMES_DEBUG_MATCH=1 prints every match decision on stderr.
package replay
