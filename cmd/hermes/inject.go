package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/hermes-trace/hermes/inject"
	"github.com/hermes-trace/hermes/policies"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// injectOpts are the fault-injection flags shared by trace and record.
type injectOpts struct {
	script  string
	params  []string
	seed    string
	onError string
	noWatch bool
}

func (o *injectOpts) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.script, "inject", "", "run the Lua `SCRIPT` on every trapped syscall (a file, or builtin:NAME; see hermes policies)")
	f.StringArrayVar(&o.params, "param", nil, "set `KEY=VALUE` in the script's params table (repeatable)")
	f.StringVar(&o.seed, "seed", "", "seed `N` for hermes.rand (default: random, printed on stderr)")
	f.StringVar(&o.onError, "on-error", "continue", "what a syscall gets when its Lua callback fails: continue, deny or kill")
	f.BoolVar(&o.noWatch, "no-reload", false, "do not reload the script when its file changes (SIGHUP still reloads)")
}

// engine builds the injection engine from the flags and the strace-style
// -e inject=/fault= rules; nil when neither asks for one.
func (o *injectOpts) engine(rules []inject.Rule, stderr io.Writer) (*inject.Engine, error) {
	if o.script == "" && len(rules) == 0 {
		if len(o.params) > 0 {
			return nil, &usageError{errors.New("--param needs --inject")}
		}
		return nil, nil
	}
	onErr, err := inject.ParseOnError(o.onError)
	if err != nil {
		return nil, &usageError{err}
	}
	params := map[string]string{}
	for _, p := range o.params {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, &usageError{fmt.Errorf("--param %q: want KEY=VALUE", p)}
		}
		params[k] = v
	}
	var seed uint64
	if o.seed == "" {
		seed = inject.NewSeed()
	} else if seed, err = strconv.ParseUint(o.seed, 0, 64); err != nil {
		return nil, &usageError{fmt.Errorf("--seed %q: not an unsigned integer", o.seed)}
	}
	opts := inject.Options{Seed: seed, OnError: onErr, Log: stderr, Reload: !o.noWatch, Params: params}
	var e *inject.Engine
	if o.script != "" {
		if e, err = inject.Load(o.script, opts); err != nil {
			return nil, err
		}
		fmt.Fprintf(stderr, "hermes: %s: seed %d (repeat with --seed %d)\n", e.Name(), seed, seed)
		e.AddRules(rules...)
	} else {
		e = inject.NewRules(rules, opts)
	}
	return e, nil
}

// union merges two trap sets, where nil means every syscall.
func union(a, b []int) []int {
	if a == nil || b == nil {
		return nil
	}
	return append(append([]int(nil), a...), b...)
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
