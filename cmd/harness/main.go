// Command harness trains and compares CRATE-MAE against MAE: it checks the
// models against the released code (parity), counts their parameters
// (params) and converts released checkpoints (convert).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Exit statuses.
const (
	exitFailed  = 1 // the command ran and something failed (a parity case, a run)
	exitInvalid = 2 // bad input: nothing was done
)

// exitError carries the exit status a command ends with.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// invalid marks err as bad input (exit status 2).
func invalid(err error) error { return &exitError{exitInvalid, err} }

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "harness",
		Short:         "Train and compare CRATE-MAE against MAE",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newParamsCmd(), newParityCmd(), newConvertCmd(), newRunCmd(), newWorkerCmd(), newLsCmd(), newShowCmd(), newCompareCmd(), newExportCmd(), newDevicesCmd(), newReportCmd(), newBenchCmd())
	return root
}

// run executes the command line args and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "harness:", err)
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	// cobra's own errors are about the command line
	return exitInvalid
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
