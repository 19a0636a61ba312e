package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"harness/internal/numfmt"
	"harness/runner"
	"harness/store"
)

// ANSI codes of equal length, so that rows line up whether bold or not.
const (
	bold  = "\x1b[1m"
	plain = "\x1b[0m"
)

func newCompareCmd() *cobra.Command {
	var db, experiment string
	cmd := &cobra.Command{
		Use:   "compare RUN RUN...",
		Short: "Compare runs: configurations side by side, differences marked, and final metrics",
		Long: `Prints the configurations of the runs side by side under dotted keys, marking
the keys whose values differ with * (and in bold on a terminal), then their
final metrics. RUN is a run's id or name, as for show.`,
		Example: `  harness compare 3 4
  harness compare CRATE-MAE/mask_ratio=0.75/seed=0 MAE/mask_ratio=0.75/seed=0 --experiment mask_ratio`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := readStore(db)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := checkExperiments(st, db, experiment); err != nil {
				return err
			}
			runs := make([]store.Run, len(args))
			specs := make([]map[string]string, len(args))
			lasts := make([]map[string]string, len(args))
			for i, ref := range args {
				if runs[i], err = findRun(st, ref, experiment); err != nil {
					return err
				}
				if specs[i], err = runner.SpecKeys(runs[i].ConfigJSON); err != nil {
					return failed(fmt.Errorf("run %d: %w", runs[i].ID, err))
				}
				last, err := st.LastMetrics(runs[i].ID)
				if err != nil {
					return failed(err)
				}
				lasts[i] = map[string]string{}
				for k := range last {
					lasts[i][k] = metricText(last, k)
				}
			}
			w := cmd.OutOrStdout()
			c := comparison{w: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0), ansi: runner.IsTerminal(w)}
			c.row(false, "run", func(i int) string { return fmt.Sprintf("%d %s", runs[i].ID, runs[i].Name) }, len(runs))
			c.row(false, "experiment", func(i int) string { return runs[i].Experiment }, len(runs))
			c.row(false, "status", func(i int) string { return runs[i].Status }, len(runs))
			c.row(false, "params", func(i int) string { return numfmt.Thousands(runs[i].ParamsTotal) }, len(runs))
			c.section("config (* differs)", specs, true)
			c.section("final metrics", lasts, false)
			return c.w.Flush()
		},
	}
	cmd.Flags().StringVar(&db, "db", "harness.db", "the store, an SQLite file")
	cmd.Flags().StringVar(&experiment, "experiment", "", "the experiment whose runs names name")
	return cmd
}

// comparison writes the table of harness compare.
type comparison struct {
	w    *tabwriter.Writer
	ansi bool
}

// section writes a heading, then a row per key of any of values, marking
// the keys whose values differ if mark is set.
func (c comparison) section(heading string, values []map[string]string, mark bool) {
	c.line(heading + strings.Repeat("\t", len(values)))
	keys := map[string]bool{}
	for _, v := range values {
		for k := range v {
			keys[k] = true
		}
	}
	for _, k := range runner.SortedKeys(keys) {
		cell := func(i int) string {
			if v, ok := values[i][k]; ok {
				return v
			}
			return "-"
		}
		differs := false
		for i := range values {
			differs = differs || cell(i) != cell(0)
		}
		c.row(mark && differs, k, cell, len(values))
	}
}

// row writes one row: a marker, the key, and the n cells.
func (c comparison) row(differs bool, key string, cell func(int) string, n int) {
	var b strings.Builder
	if differs {
		b.WriteString("* ")
	} else {
		b.WriteString("  ")
	}
	b.WriteString(key)
	for i := range n {
		b.WriteString("\t" + cell(i))
	}
	c.lineStyled(differs, b.String())
}

func (c comparison) line(s string) { c.lineStyled(false, s) }

// lineStyled writes a line, in bold if set and the output is a terminal.
// Every line then starts with an ANSI code of the same length, so the
// columns line up.
func (c comparison) lineStyled(set bool, s string) {
	if !c.ansi {
		fmt.Fprintln(c.w, s)
		return
	}
	code := plain
	if set {
		code = bold
	}
	fmt.Fprintln(c.w, code+s+plain)
}
