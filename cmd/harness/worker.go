package main

import (
	"context"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"harness/runner"
)

func newWorkerCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "worker RUN_DIR",
		Short:  "Execute one run for harness run, speaking its protocol on stdin and stdout",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			if err := runner.Serve(ctx, args[0]); err != nil {
				return failed(err)
			}
			return nil
		},
	}
}
