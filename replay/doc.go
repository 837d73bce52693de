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
// Departure. Where an overlay (an --inject script) gives a call another
// outcome than the recording had, the replay departs: from there every
// call runs live to the program's own end, with clocks, random bytes and
// pids kept deterministic (see Departure, ClockStep).
//
// The files. The caller runs the target in a private view of the file
// system restored from the recording's pre-images (package fsview);
// stat-like calls and directory listings of files are emulated (class
// Meta), since a restored copy has other inode numbers, times and order.
//
// Parts. A Replayer is a tracer handler over typed parts that are tested
// on their own: the prefetcher (reads the trace ahead on a goroutine), the
// matcher (per-thread queues of recorded calls, look-ahead, steal), the
// pid map (recorded, live and virtual ids), the clock book (offsets of the
// recorded clocks, the departed run's virtual clock) and the departed
// run's state. What replay needs to know of each syscall comes from the
// generated syscall table (abi.ReplayFacts).
//
// Setting HERMES_DEBUG_MATCH=1 prints every match decision on stderr.
package replay
