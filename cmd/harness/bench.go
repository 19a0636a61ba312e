package main

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"harness/ablations"
	"harness/internal/numfmt"
	"harness/training"
)

func newBenchCmd() *cobra.Command {
	var sets []string
	var steps, warmup int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "bench [--set KEY=VALUE ...] [--steps N] [--json]",
		Short: "Measure the throughput of full training steps",
		Long: `Times full training steps (forward, backward, AdamW update) on random images
and prints images per second. The default configuration: arch crate, img 32,
patch 4, 3 channels, width 192, depth 6, 6 heads, decoder 192/6/6, batch 64,
mask ratio 0.75, released masking, all cores (train.threads = 0).`,
		Example: `  harness bench
  harness bench --set model.arch=vit --steps 20 --json
  harness bench --set train.batch_size=128 --set train.threads=1`,
		Args: keyValueArgs(&sets, cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, err := ablations.Override(training.BenchSpec(), sets)
			if err != nil {
				return invalid(err)
			}
			note, _, err := resolveDevices([]training.Device{spec.Train.Device})
			if err != nil {
				return invalid(err)
			}
			if note != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "harness: "+note)
			}
			r, err := training.Bench(spec, warmup, steps)
			if err != nil {
				return invalid(err)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				b, err := json.Marshal(r)
				if err != nil {
					return err
				}
				fmt.Fprintln(out, string(b))
				return nil
			}
			sorted := slices.Clone(r.StepSeconds)
			slices.Sort(sorted)
			fmt.Fprintf(out, "%s, %s parameters, batch %d, %d threads: %.2f images/s (median step %.3f s over %d)\n",
				r.Arch, numfmt.Thousands(r.ParamsTotal), r.Batch, r.Threads, r.ImagesPerSecond, sorted[len(sorted)/2], r.Steps)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&sets, "set", nil, "override a key, as section.KEY=VALUE (repeatable)")
	cmd.Flags().IntVar(&steps, "steps", 10, "timed steps")
	cmd.Flags().IntVar(&warmup, "warmup", 2, "untimed steps first")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}
