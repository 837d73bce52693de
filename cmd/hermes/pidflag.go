package main

import (
	"fmt"
	"strconv"
)

// pidFlag is the -p PID flag of trace and record: a process id, so a
// positive number (-p 0 is not "no -p").
type pidFlag int

// String implements pflag.Value.
func (p *pidFlag) String() string { return strconv.Itoa(int(*p)) }

// Set implements pflag.Value.
func (p *pidFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return fmt.Errorf("%q is not a process id (a positive number)", s)
	}
	*p = pidFlag(n)
	return nil
}

// Type implements pflag.Value.
func (p *pidFlag) Type() string { return "PID" }
