package main

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"

	"github.com/hermes-trace/hermes/inject"
	hrun "github.com/hermes-trace/hermes/internal/run"
	"github.com/hermes-trace/hermes/policies"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// injectOpts are the fault-injection flags shared by trace and record.
type injectOpts struct {
	allowIOUring bool
	scripts      []string
	params       []string
	seed         string
	onError      string
	strict       bool
	noWatch      bool
	chaos        string
}

// chaosOn is --chaos given without a seed.
const chaosOn = "random"

// optValue is a string flag whose value is optional: its help reads
// --NAME[=DEFAULT] rather than pflag's --NAME string[="DEFAULT"].
type optValue struct{ p *string }

func (v optValue) String() string { return *v.p }
func (v optValue) Set(s string) error {
	if s == "" {
		return errors.New("empty: give a seed, or the flag alone for a random one")
	}
	*v.p = s
	return nil
}
func (optValue) Type() string { return "" }

// addChaosFlag adds --chaos[=SEED] (trace, record, explore).
func addChaosFlag(f *pflag.FlagSet, p *string) {
	f.Var(optValue{p}, "chaos", "perturb the schedule at trapped calls (futex too), one thread at a time between them: hold a thread, or let another go first, by decisions drawn from the run's seed, random and printed unless given as --chaos=SEED")
	f.Lookup("chaos").NoOptDefVal = chaosOn
}

// chaosSeed reads --chaos's value into in: on, with the seed (if given)
// as the run's seed.
func chaosSeed(v string, in *hrun.Inject) error {
	if v == "" {
		return nil
	}
	in.Chaos = true
	if v == chaosOn {
		return nil
	}
	seed, err := strconv.ParseUint(v, 0, 64)
	if err != nil {
		return &usageError{fmt.Errorf("--chaos=%q: not an unsigned integer seed", v)}
	}
	if in.SeedSet && in.Seed != seed {
		return &usageError{fmt.Errorf("--chaos=%d and --seed %d: a run has one seed", seed, in.Seed)}
	}
	in.Seed, in.SeedSet = seed, true
	return nil
}

// chaosSpaced catches a seed written as --chaos SEED: pflag reads an
// optional value only after "=", so the seed became the command.
func chaosSpaced(v string, argv []string) error {
	if v != chaosOn || len(argv) == 0 || strings.ContainsRune(argv[0], '/') {
		return nil
	}
	if _, err := strconv.ParseUint(argv[0], 0, 64); err != nil {
		return nil
	}
	if _, err := exec.LookPath(argv[0]); err == nil {
		return nil
	}
	return &usageError{fmt.Errorf("--chaos %s: a seed goes as --chaos=%s (%q is no command)", argv[0], argv[0], argv[0])}
}

func (o *injectOpts) addFlags(f *pflag.FlagSet) {
	f.StringArrayVar(&o.scripts, "inject", nil, "run the Lua `SCRIPT` on every trapped syscall (a file, or builtin:NAME; see hermes policies); repeatable: the scripts compose in order")
	f.StringArrayVar(&o.params, "param", nil, "give `KEY=VALUE` to every script that declares KEY with hermes.param (repeatable; a KEY no script declares is an error)")
	f.StringVar(&o.seed, "seed", "", "seed `N` for hermes.rand and --chaos (default: random, printed on stderr when a script or --chaos uses it, and stored in a recorded trace)")
	f.StringVar(&o.onError, "on-error", "continue", "what a syscall gets when its Lua callback fails: continue, deny or kill")
	f.BoolVar(&o.strict, "strict", false, "end the run at the first script error (a callback that fails or times out): the target is killed and hermes exits 125")
	f.BoolVar(&o.noWatch, "no-reload", false, "do not reload the script when its file changes (SIGHUP still reloads)")
	f.BoolVar(&o.allowIOUring, "allow-io-uring", false, "let io_uring_setup through when recording, replaying or injecting (by default it fails with ENOSYS: ring operations bypass hermes)")
}

// toInject reads the flags and the strace-style -e inject=/fault= rules.
func (o *injectOpts) toInject(rules []inject.Rule, stderr io.Writer) (hrun.Inject, error) {
	in := hrun.Inject{Scripts: o.scripts, Rules: rules, Strict: o.strict, Reload: !o.noWatch, Log: stderr, AllowIOUring: o.allowIOUring}
	for _, s := range o.scripts {
		if s == "" {
			return in, &usageError{errors.New("--inject: empty script name")}
		}
	}
	if o.seed != "" {
		seed, err := strconv.ParseUint(o.seed, 0, 64)
		if err != nil {
			return in, &usageError{fmt.Errorf("--seed %q: not an unsigned integer", o.seed)}
		}
		in.Seed, in.SeedSet = seed, true
	}
	if err := chaosSeed(o.chaos, &in); err != nil {
		return in, err
	}
	if len(o.scripts) == 0 && len(rules) == 0 {
		if len(o.params) > 0 {
			return in, &usageError{errors.New("--param needs --inject")}
		}
		return in, nil
	}
	onErr, err := inject.ParseOnError(o.onError)
	if err != nil {
		return in, &usageError{err}
	}
	in.OnError = onErr
	in.Params = map[string]string{}
	for _, p := range o.params {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return in, &usageError{fmt.Errorf("--param %q: want KEY=VALUE", p)}
		}
		in.Params[k] = v
	}
	return in, nil
}

// exitWarnings is hermes check's exit status for scripts that load but
// look wrong.
const exitWarnings = 1

func newCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check SCRIPT...",
		Short: "Compile and validate Lua fault-injection scripts without running anything",
		Long: `Compile each SCRIPT (a file, or builtin:NAME) in the same sandbox hermes runs it
in, and check the syscall names it traps and the errno names it uses. Errors
are reported as file:line: message, with exit status 125. A script that
loads but defines a global function named like a hook that is not one
(on_syscal, onReturn: hermes never calls it) gets a warning line
"file:line: warning: ..." on stderr and exit status 1. A clean script prints
"SCRIPT: ok".`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			warned := false
			for _, path := range args {
				warnings, err := inject.Check(path)
				if err != nil {
					return err
				}
				for _, w := range warnings {
					fmt.Fprintf(cmd.ErrOrStderr(), "hermes: %s\n", w)
				}
				if len(warnings) > 0 {
					warned = true
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", path)
			}
			if warned {
				return exitCode(exitWarnings)
			}
			return nil
		},
	}
}

func newPoliciesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "policies [NAME]",
		Short: "List the built-in fault-injection scripts, or print one",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if len(args) == 1 {
				src, ok := policies.Get(args[0])
				if !ok {
					return fmt.Errorf("no built-in policy %q (see hermes policies)", args[0])
				}
				_, err := out.Write(src)
				return err
			}
			for _, name := range policies.List() {
				fmt.Fprintf(out, "builtin:%-12s %s\n", name, policies.Summary(name))
			}
			return nil
		},
	}
}
