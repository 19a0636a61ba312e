package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"harness/reports"
)

func newReportCmd() *cobra.Command {
	var db, out string
	var experiments []string
	var allVersions bool
	var singleFile bool
	cmd := &cobra.Command{
		Use:   "report [--db PATH] [--experiment NAME ...] [--out DIR] [--single-file]",
		Short: "Write Markdown and HTML reports with figures of the experiments in the store",
		Long: `Writes, for each experiment in the store (or each one named with
--experiment), DIR/<experiment>/report.md and report.html with the figures
beside them as PNG and SVG: parameter efficiency, every ablation axis,
training curves, layer-wise coding rate and sparsity, and the runs'
reconstruction grids. The tables give every configuration's parameter
counts and final metrics (mean ± std over seeds), CRATE-MAE against MAE for
matched runs, and the best configuration per metric. Failed and unfinished
runs are listed with their status and error.

A report shows the runs of the experiment's current version (the file as
last run) under the text of that file; --all-versions draws the runs of
every version, still under the current text.

With --single-file, report.html is self-contained: the figures, grids and
logs are inlined as data: URIs, so that the page can be sent alone.

The store is only read, read-only media included. A store that cannot be
read as one (missing, another program's, of a newer schema) or an unknown
experiment exits with status 2, as for ls, show, compare and export.`,
		Example: `  harness report
  harness report --db runs/harness.db --experiment mask_ratio --out reports
  harness report --experiment mask_ratio --experiment sizes
  harness report --experiment mask_ratio --all-versions
  harness report --experiment mask_ratio --single-file`,
		Args:                  cobra.NoArgs,
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := readStore(db)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := checkExperiments(s, db, experiments...); err != nil {
				return err
			}
			results, err := reports.Generate(s, reports.Options{Experiments: experiments, OutDir: out, StorePath: db, AllVersions: allVersions, SingleFile: singleFile})
			if errors.Is(err, reports.ErrUnknownExperiment) {
				return invalid(err)
			}
			if err != nil {
				return failed(err)
			}
			w := cmd.OutOrStdout()
			if len(results) == 0 {
				fmt.Fprintf(w, "%s holds no experiments\n", db)
			}
			for _, r := range results {
				fmt.Fprintf(w, "%s: %s, %s (%d runs, %d missing, %d figures)\n",
					r.Experiment, r.Markdown, r.HTML, r.Runs, r.Missing, len(r.Figures))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&db, "db", "harness.db", "the tracking store")
	cmd.Flags().StringArrayVar(&experiments, "experiment", nil, "report only this experiment (repeatable)")
	cmd.Flags().BoolVar(&allVersions, "all-versions", false, "report the runs of every version of the experiments, not only the current one")
	cmd.Flags().StringVar(&out, "out", "reports", "directory the reports go to, one subdirectory per experiment")
	cmd.Flags().BoolVar(&singleFile, "single-file", false, "make report.html self-contained, images inlined as data: URIs")
	return cmd
}
