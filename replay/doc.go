// Package replay is hermes's replay mode: it re-runs a recorded command
// under the tracer, matches every thread and syscall to the recording by
// lineage and index, and injects the recorded results where the outcome is
// nondeterministic or was injected when recording.
package replay
