package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"harness/runner"
	"harness/store"
)

func newExportCmd() *cobra.Command {
	var db, format string
	var f store.Filter
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the metrics of runs to stdout as CSV or JSON",
		Long: `Writes every metric of the runs (of --experiment, if given) in run, step and
key order: as CSV with the columns run_id, experiment, run, step, key, value,
wall_time, or as a JSON array of objects with those keys. wall_time is RFC
3339 UTC; JSON writes NaN and infinities as the strings "NaN", "+Inf", "-Inf".`,
		Example: `  harness export --experiment mask_ratio > metrics.csv
  harness export --format json --db runs.db | jq '.[] | select(.key == "train/loss")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != runner.FormatCSV && format != runner.FormatJSON {
				return invalid(fmt.Errorf("--format %s: want %s or %s", format, runner.FormatCSV, runner.FormatJSON))
			}
			st, err := readStore(db)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := checkExperiments(st, db, f.Experiment); err != nil {
				return err
			}
			if err := runner.Export(cmd.OutOrStdout(), st, f, format); err != nil {
				return failed(err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&db, "db", "harness.db", "the store, an SQLite file")
	cmd.Flags().StringVar(&f.Experiment, "experiment", "", "only the runs of this experiment")
	cmd.Flags().StringVar(&format, "format", runner.FormatCSV, "csv or json")
	return cmd
}
