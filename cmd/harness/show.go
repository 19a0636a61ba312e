package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"harness/internal/numfmt"
	"harness/runner"
	"harness/store"
)

func newShowCmd() *cobra.Command {
	var db, experiment string
	cmd := &cobra.Command{
		Use:   "show RUN",
		Short: "Show a run: configuration, provenance, final metrics and artifacts",
		Long: `RUN is a run's id or its name; a name means the newest run of that name, in
--experiment if given.`,
		Example: `  harness show 12
  harness show CRATE-MAE/mask_ratio=0.75/seed=0 --experiment mask_ratio`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := readStore(db)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := checkExperiments(st, db, experiment); err != nil {
				return err
			}
			r, err := findRun(st, args[0], experiment)
			if err != nil {
				return err
			}
			spec, err := runner.SpecKeys(r.ConfigJSON)
			if err != nil {
				return failed(fmt.Errorf("run %d: %w", r.ID, err))
			}
			last, err := st.LastMetrics(r.ID)
			if err != nil {
				return failed(err)
			}
			arts, err := st.Artifacts(r.ID)
			if err != nil {
				return failed(err)
			}
			w := cmd.OutOrStdout()
			writeRun(w, r)
			fmt.Fprintln(w, "config:")
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			for _, k := range runner.SortedKeys(spec) {
				fmt.Fprintf(tw, "  %s\t%s\n", k, spec[k])
			}
			tw.Flush()
			fmt.Fprintln(w, "final metrics:")
			writeMetrics(w, last)
			fmt.Fprintln(w, "artifacts:")
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			for _, a := range arts {
				fmt.Fprintf(tw, "  %s\t%s\t%s\n", a.Kind, a.Path, a.CreatedAt.Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&db, "db", "harness.db", "the store, an SQLite file")
	cmd.Flags().StringVar(&experiment, "experiment", "", "the experiment whose runs names name")
	return cmd
}

// findRun finds a run by id or name, with bad references as invalid input.
func findRun(st *store.Store, ref, experiment string) (store.Run, error) {
	r, err := runner.FindRun(st, ref, experiment)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, runner.ErrAmbiguous) {
		return store.Run{}, invalid(err)
	}
	if err != nil {
		return store.Run{}, failed(err)
	}
	return r, nil
}

// writeRun prints what the store says of a run besides its configuration
// and metrics.
func writeRun(w io.Writer, r store.Run) {
	live := runner.NewLiveness(runner.CurrentProvenance().Host)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("run", fmt.Sprintf("%d %s", r.ID, r.Name))
	row("experiment", r.Experiment)
	row("status", statusText(r, live))
	row("params", fmt.Sprintf("%s total, %s trainable", numfmt.Thousands(r.ParamsTotal), numfmt.Thousands(r.ParamsTrainable)))
	row("device", r.Device)
	if !r.StartedAt.IsZero() {
		row("started", r.StartedAt.Format(time.RFC3339))
	}
	if !r.FinishedAt.IsZero() {
		row("finished", r.FinishedAt.Format(time.RFC3339))
	}
	row("duration", duration(r, live))
	if r.Status == store.StatusRunning && r.Owner.PID > 0 {
		row("owner", fmt.Sprintf("pid %d on %s, last heartbeat %s", r.Owner.PID, r.Owner.Host, r.Heartbeat.Format(time.RFC3339)))
	}
	if r.Dir != "" {
		row("directory", r.Dir)
	}
	row("host", r.Host)
	row("code version", r.CodeVersion)
	row("command", r.Command)
	tw.Flush()
	if r.Error != "" {
		fmt.Fprintf(w, "error:\n%s\n", r.Error)
	}
}
