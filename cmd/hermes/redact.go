package main

import hrun "github.com/hermes-trace/hermes/internal/run"

// For the tests of what record and replay do with a redacted environment.
var (
	restoreRedactedEnv = hrun.RestoreRedactedEnvWith
	setEnv             = hrun.SetEnv
	redactedValue      = hrun.RedactedValue
	redactedMatches    = hrun.RedactedMatches
)
