// Command harness trains and compares CRATE-MAE against MAE: it checks the
// models against the released code (parity), counts their parameters
// (params) and converts released checkpoints (convert).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"harness/runner"
)

// Exit statuses, the same for every command: one fault gives one status
// whichever command meets it.
const (
	exitOK      = 0 // done
	exitFailed  = 1 // the command ran and something failed: a run, a parity case, a read of the store
	exitInvalid = 2 // bad input (arguments, files, the store or a name given): nothing was done
	// exitInterrupted is the status of a harness run stopped by SIGINT;
	// SIGTERM gives 143, 128 plus the signal's number, as shells do.
	exitInterrupted = 130
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

// failed marks err as a failure of a command that ran (exit status 1).
func failed(err error) error { return &exitError{exitFailed, err} }

// interrupted is the error of a command stopped by a signal: 130 for
// SIGINT, 143 for SIGTERM.
func interrupted(i *runner.Interrupt) error { return &exitError{i.ExitCode(), i} }

// keyValueArgs checks that every --set value is KEY=VALUE before checking
// the positional arguments with args: "--set train.steps 100" would
// otherwise be reported as a stray argument "100".
func keyValueArgs(sets *[]string, args cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, positional []string) error {
		for _, s := range *sets {
			if !strings.Contains(s, "=") {
				return fmt.Errorf("--set takes KEY=VALUE, got %s", s)
			}
		}
		return args(cmd, positional)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "harness",
		Short:         "Train and compare CRATE-MAE against MAE",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newParamsCmd(), newParityCmd(), newConvertCmd(), newRunCmd(), newWorkerCmd(), newLsCmd(), newShowCmd(), newCompareCmd(), newExportCmd(), newDevicesCmd(), newReportCmd(), newBenchCmd(), newRmCmd(), newTagCmd(), newNoteCmd())
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
		return exitOK
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
