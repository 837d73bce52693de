package main

import (
	"errors"
	"fmt"
	"io"
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
	script       string
	params       []string
	seed         string
	onError      string
	noWatch      bool
}

func (o *injectOpts) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.script, "inject", "", "run the Lua `SCRIPT` on every trapped syscall (a file, or builtin:NAME; see hermes policies)")
	f.StringArrayVar(&o.params, "param", nil, "set `KEY=VALUE` in the script's params table (repeatable)")
	f.StringVar(&o.seed, "seed", "", "seed `N` for hermes.rand (default: random, printed on stderr)")
	f.StringVar(&o.onError, "on-error", "continue", "what a syscall gets when its Lua callback fails: continue, deny or kill")
	f.BoolVar(&o.noWatch, "no-reload", false, "do not reload the script when its file changes (SIGHUP still reloads)")
	f.BoolVar(&o.allowIOUring, "allow-io-uring", false, "let io_uring_setup through when recording, replaying or injecting (by default it fails with ENOSYS: ring operations bypass hermes)")
}

// toInject reads the flags and the strace-style -e inject=/fault= rules.
func (o *injectOpts) toInject(rules []inject.Rule, stderr io.Writer) (hrun.Inject, error) {
	in := hrun.Inject{Script: o.script, Rules: rules, Reload: !o.noWatch, Log: stderr, AllowIOUring: o.allowIOUring}
	if o.seed != "" {
		seed, err := strconv.ParseUint(o.seed, 0, 64)
		if err != nil {
			return in, &usageError{fmt.Errorf("--seed %q: not an unsigned integer", o.seed)}
		}
		in.Seed, in.SeedSet = seed, true
	}
	if o.script == "" && len(rules) == 0 {
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

func newCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check SCRIPT",
		Short: "Compile and validate a Lua fault-injection script without running anything",
		Long: `Compile SCRIPT (a file, or builtin:NAME) in the same sandbox hermes runs it in,
and check the syscall names it traps and the errno names it uses. Errors are
reported as file:line: message, with exit status 125.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := inject.Check(args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", args[0])
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
