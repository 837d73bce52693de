// Package seccomp builds, checks and installs the classic-BPF seccomp filter
// that HERMES loads into every tracee.
//
// The package has four parts:
//
//   - Builder, a small classic-BPF assembler with named labels. Jumps may
//     only go forward (as in all classic BPF). Conditional jumps have 8-bit
//     offsets; when a target is more than 255 instructions away the builder
//     inserts a trampoline right after the jump: a copy of the target if the
//     target is a RET, otherwise a JA, whose offset is 32 bits wide.
//
//   - Run, an interpreter for classic BPF exactly as seccomp accepts it:
//     Validate performs the checks the kernel makes when a filter is loaded
//     (opcode whitelist, in-bounds jumps, aligned loads inside struct
//     seccomp_data, scratch memory written before it is read, RET at the
//     end), and Run then executes the program over a Data value. It is used
//     to test filters without a kernel.
//
//   - Policy and Build, which compile the hermes filter. The filter checks
//     seccomp_data.arch first: x86_64 system calls whose number is in
//     Policy.Traced return SECCOMP_RET_TRACE|DataNative, other x86_64 calls
//     are allowed, x32 calls (nr with bit 30 set, and every other nr >=
//     0x40000000 as an unsigned number) and all i386 calls (int 0x80) get
//     Policy.ForeignAction, which defaults to SECCOMP_RET_TRACE with DataX32
//     or DataI386 in the low 16 bits, and every other architecture kills the
//     process. The traced set is compiled into sorted ranges searched by a
//     balanced tree of JGE comparisons, so a call costs O(log n) executed
//     instructions. Allowed calls depend on nr and arch only, using only the
//     instructions the kernel's constant-action emulator understands, so
//     kernels >= 5.11 (seccomp_cache) skip the filter entirely for them;
//     ConstAllow reproduces that emulator.
//
//   - Install and Prog, to load a program with seccomp(2). A launcher that
//     loads the filter in a forked child with raw system calls (no
//     allocation allowed) builds the unix.SockFprog with Prog beforehand in
//     the parent, keeps it reachable, and passes its address to
//     SYS_SECCOMP itself.
//
// Disassemble (and Program.String) prints a program one instruction per
// line, for test failures and debugging.
package seccomp
