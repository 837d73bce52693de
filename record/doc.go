// Package record is hermes's record mode: a tracer handler that writes
// every trapped syscall, with its registers and the memory the syscall
// model says matters, into a trace file (package format).
package record
