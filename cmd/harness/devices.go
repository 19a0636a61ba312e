package main

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"harness/runner"
)

func newDevicesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "devices",
		Short: "List the CPU and GPUs found, and what this build computes on",
		Long: `Lists the cores and, through NVML (libnvidia-ml.so.1, loaded at run time), the
NVIDIA GPUs that CUDA_VISIBLE_DEVICES leaves visible. This build's models
compute on the CPU only, so GPUs are listed as found but not usable, and
harness run uses CPU slots.`,
		Example: `  harness devices
  CUDA_VISIBLE_DEVICES=1 harness devices`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			d := runner.Discover()
			w := cmd.OutOrStdout()
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "device\tname\tmemory\tusable")
			fmt.Fprintf(tw, "cpu\t%d cores\t\tyes: runs use CPU slots\n", d.Cores)
			for _, g := range d.GPUs {
				fmt.Fprintf(tw, "gpu %d\t%s (%s)\t%.1f GiB\tno: found, but this build cannot compute on it\n",
					g.Index, g.Name, g.UUID, float64(g.Memory)/(1<<30))
			}
			tw.Flush()
			switch {
			case d.NVMLErr != nil:
				fmt.Fprintf(w, "GPUs: none listed (%v)\n", d.NVMLErr)
			case len(d.GPUs) == 0 && d.Hidden == 0:
				fmt.Fprintf(w, "GPUs: none found (NVIDIA driver %s)\n", d.Driver)
			default:
				fmt.Fprintf(w, "GPUs: NVIDIA driver %s", d.Driver)
				if d.Hidden > 0 {
					fmt.Fprintf(w, "; %d hidden by CUDA_VISIBLE_DEVICES=%q", d.Hidden, os.Getenv("CUDA_VISIBLE_DEVICES"))
				}
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "compute: %s\n", runner.Compute)
			return nil
		},
	}
}
