package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"harness/internal/numfmt"
	"harness/runner"
	"harness/store"
)

func newShowCmd() *cobra.Command {
	var db, experiment string
	var allVersions bool
	cmd := &cobra.Command{
		Use:   "show RUN",
		Short: "Show a run: configuration, provenance, versions, tags, notes, final metrics and artifacts",
		Long: `RUN is a run's id or its name. A name means the run of that name in the
current version of its experiment (--experiment, or the one experiment with a
run of that name); show says so when other versions have a run of that name
too. With --all-versions a name means the one run of that name in any
version; a name several runs have is refused, naming their ids.`,
		Example: `  harness show 12
  harness show CRATE-MAE/mask_ratio=0.75/seed=0 --experiment mask_ratio
  harness show CRATE-MAE/mask_ratio=0.75/seed=0 --all-versions`,
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
			r, note, err := resolveRun(st, args[0], experiment, allVersions)
			if err != nil {
				return err
			}
			if note != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "harness:", note)
			}
			versions, err := st.RunVersions(r.Experiment)
			if err != nil {
				return failed(err)
			}
			tags, err := st.Tags(r.ID)
			if err != nil {
				return failed(err)
			}
			notes, err := st.Notes(r.ID, "")
			if err != nil {
				return failed(err)
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
			inVersions := versionsText(versions[r.ConfigHash])
			if cur, err := st.CurrentVersion(r.Experiment); err == nil && !slices.Contains(versions[r.ConfigHash], cur.Number) {
				inVersions += fmt.Sprintf(" (not in the current version, %d)", cur.Number)
			} else if err != nil && !errors.Is(err, store.ErrNotFound) {
				return failed(err)
			}
			writeRun(w, r, [2]string{"versions", inVersions}, [2]string{"tags", tagsText(tags[r.ID])})
			if len(notes) > 0 {
				fmt.Fprintln(w, "notes:")
				for _, n := range notes {
					fmt.Fprintf(w, "  %s  %s\n", n.CreatedAt.Format(time.RFC3339), n.Text)
				}
			}
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
	cmd.Flags().BoolVar(&allVersions, "all-versions", false, "a name means the one run of that name in any version, not the one of the current version")
	return cmd
}

// findRun finds a run by id or name as show does, in the current version,
// with bad references as invalid input.
func findRun(st *store.Store, ref, experiment string) (store.Run, error) {
	r, _, err := resolveRun(st, ref, experiment, false)
	return r, err
}

// writeRun prints what the store says of a run besides its configuration
// and metrics, with the rows extra (key, value) after the others.
func writeRun(w io.Writer, r store.Run, extra ...[2]string) {
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
	for _, e := range extra {
		row(e[0], e[1])
	}
	tw.Flush()
	if r.Error != "" {
		fmt.Fprintf(w, "error:\n%s\n", r.Error)
	}
}
