package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"harness/internal/numfmt"
	"harness/runner"
	"harness/store"
)

// lsMetrics are the final metrics harness ls shows.
var lsMetrics = []string{"train/loss", "eval/recon_loss", "eval/linear_probe_acc"}

// statuses are the values of runs.status.
var statuses = []string{store.StatusPending, store.StatusRunning, store.StatusDone, store.StatusFailed, store.StatusInterrupted}

func newLsCmd() *cobra.Command {
	var db string
	var f store.Filter
	var allVersions bool
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List the runs in the store with their final metrics",
		Long: `Lists the runs: id, experiment, name, status, total parameters, the final
train/loss, eval/recon_loss and eval/linear_probe_acc, and how long the last
attempt took (so far, for a run still running), and its tags. Only the runs
of each experiment's current version (the file as last run) are listed;
--all-versions lists every run, with the versions it belongs to. A run marked running whose
harness is gone (its process dead on this host, or its heartbeat older than a
minute) shows as "running (owner gone)"; the next harness run takes it over.
The store is only read, read-only media included; a store that cannot be
read as one or an unknown --experiment exits with status 2.`,
		Example: `  harness ls
  harness ls --experiment mask_ratio --status failed --db runs.db
  harness ls --experiment mask_ratio --all-versions`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.Status != "" && !slices.Contains(statuses, f.Status) {
				return invalid(fmt.Errorf("--status %s: want one of %v", f.Status, statuses))
			}
			st, err := readStore(db)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := checkExperiments(st, db, f.Experiment); err != nil {
				return err
			}
			f.Current = !allVersions
			runs, err := st.Runs(f)
			if err != nil {
				return failed(err)
			}
			tags, err := st.Tags()
			if err != nil {
				return failed(err)
			}
			versions := map[string]map[string][]int{} // by experiment, config hash
			live := runner.NewLiveness(runner.CurrentProvenance().Host)
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			head := "id\texperiment\tname\tstatus\tparams\ttrain/loss\teval/recon_loss\teval/linear_probe_acc\tduration\ttags"
			if allVersions {
				head += "\tversions"
			}
			fmt.Fprintln(tw, head)
			for _, r := range runs {
				last, err := st.LastMetrics(r.ID)
				if err != nil {
					return failed(err)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s", r.ID, r.Experiment, r.Name, statusText(r, live), numfmt.Thousands(r.ParamsTotal))
				for _, k := range lsMetrics {
					fmt.Fprintf(tw, "\t%s", metricText(last, k))
				}
				fmt.Fprintf(tw, "\t%s\t%s", duration(r, live), tagsText(tags[r.ID]))
				if allVersions {
					if versions[r.Experiment] == nil {
						if versions[r.Experiment], err = st.RunVersions(r.Experiment); err != nil {
							return failed(err)
						}
					}
					vs := versionsText(versions[r.Experiment][r.ConfigHash])
					fmt.Fprintf(tw, "\t%s", strings.TrimPrefix(strings.TrimPrefix(vs, "versions "), "version "))
				}
				fmt.Fprintln(tw)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&db, "db", "harness.db", "the store, an SQLite file")
	cmd.Flags().StringVar(&f.Experiment, "experiment", "", "only the runs of this experiment")
	cmd.Flags().BoolVar(&allVersions, "all-versions", false, "list the runs of every version of the experiments, not only the current one")
	cmd.Flags().StringVar(&f.Status, "status", "", "only the runs with this status: pending, running, done, failed or interrupted")
	return cmd
}

// metricText is the value of key in last, or "-".
func metricText(last map[string]store.Metric, key string) string {
	m, ok := last[key]
	if !ok {
		return "-"
	}
	return strconv.FormatFloat(m.Value, 'g', 6, 64)
}

// ownerGone is the status harness ls shows for a run marked running whose
// owner is gone.
const ownerGone = "running (owner gone)"

// statusText is the run's status, or ownerGone for a run marked running
// whose owner live says is gone: the next harness run takes it over.
func statusText(r store.Run, live runner.Liveness) string {
	if r.Status == store.StatusRunning && live.Gone(r) {
		return ownerGone
	}
	return r.Status
}

// duration is how long the run's last attempt took, or has taken so far;
// for a run whose owner is gone, until its last heartbeat.
func duration(r store.Run, live runner.Liveness) string {
	switch {
	case r.StartedAt.IsZero():
		return "-"
	case r.FinishedAt.IsZero() && r.Status == store.StatusRunning && live.Gone(r) && !r.Heartbeat.IsZero():
		return runner.FormatDuration(r.Heartbeat.Sub(r.StartedAt)) + " (until its last heartbeat)"
	case r.FinishedAt.IsZero():
		return runner.FormatDuration(time.Since(r.StartedAt))
	}
	return runner.FormatDuration(r.FinishedAt.Sub(r.StartedAt))
}

// writeMetrics prints the final metrics of a run, sorted by key.
func writeMetrics(w io.Writer, last map[string]store.Metric) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, k := range runner.SortedKeys(last) {
		m := last[k]
		fmt.Fprintf(tw, "  %s\t%s\tstep %d\n", k, strconv.FormatFloat(m.Value, 'g', -1, 64), m.Step)
	}
	tw.Flush()
}
