package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"harness/ablations"
	"harness/internal/names"
	"harness/internal/numfmt"
	"harness/runner"
	"harness/store"
)

func newRunCmd() *cobra.Command {
	var (
		db, out     string
		sets        []string
		sweeps      []string
		workers     int
		runsPerGPU  int
		dryRun      bool
		retryFailed bool
	)
	cmd := &cobra.Command{
		Use:   "run EXPERIMENT.toml",
		Short: "Train the runs of an experiment, skipping those done and resuming those interrupted",
		Long: `Expands the experiment file into runs and executes those the store has not
done: new runs, interrupted ones (resumed from their last checkpoint), and runs
left running by a harness that is gone (its process dead on this host, or its
heartbeat older than a minute on another). Runs another live harness process is
executing are waited for. Each run trains in a worker process of its own;
checkpoints, artifacts and the worker's log go to
OUT/<experiment>/<store id>-<run id>/. The store records each run's
directory: a run resumed or taken over by a harness with another --out
continues in the directory of its checkpoint while that still exists.

A run fails by its own fault only (a diverging loss, a bug, invalid data); a
worker killed by a signal, an I/O error or a full disk leaves it interrupted,
and the next run of the same file resumes it. A full disk also stops the
starting of new runs.

--sweep KEY=V1,V2,... adds an ablation axis of KEY without editing the file,
innermost (after the file's axes), for every variant; on a key the file
already ablates, it replaces that axis's values (keeping its name and
variants) and says so. Its values are read as --set reads one, with the key's
type; KEY={ log_uniform = [1e-4, 1e-2], count = 8 } samples them as a file's
values table does. Repeatable; the runs it makes are named and stored as if
the file had the axis.

Every problem with the file, the overrides, the datasets, the names (the
experiment's names a directory under --out), --out and the store is reported
with exit status 2 before anything runs and before the store is written.
This build computes on the CPU only: runs use CPU slots, as many at once as
--workers says, by default as many as the cores allow given each run's
train.threads. train.device = "cuda" is refused until the CUDA executor
exists; "auto" runs on the CPU, and the harness says why. --dry-run shows
each run's device and status.

The store keeps every version of the file: each distinct text, with the
--set overrides, is a version, and a run whose configuration is unchanged
between versions belongs to both. Before it starts, run says which version
the file is and what changed from the version before: runs added, runs no
longer in the file (kept in the store: ls, show and report show the current
version's runs unless given --all-versions), runs unchanged. --dry-run says
so too, and gives each run's status: new, done, failed, interrupted
(resumable), resumable (owner gone) or running; it reads the store, if there
is one, without writing to it.

On a terminal the output keeps a bar per run executing (its step and loss,
or the evaluation it is in) and the experiment's line (runs done of all,
failed, ETA) below the lines of runs started, resumed and ended; otherwise it
is plain lines. ETAs come from the step time measured after the warm-up,
evaluations timed apart; "done in" counts every attempt at a run. Each run
records the git revision of the code it ran (read from git at run time when
the binary lacks it, as with go run), and the harness warns when a worker
runs another build than its own (the binary was rebuilt meanwhile).

Ctrl-C (SIGINT or SIGTERM) stops cleanly: the workers checkpoint, their runs
are marked interrupted, and the next run of the same file resumes them. A
second Ctrl-C kills the workers at once.

Exit status: 0 every run done, 1 some run failed or is not done, 2 invalid
input (the file, an override, a dataset, --out, or a store that is missing
its directory, another program's or of a newer schema), 130 (143) stopped by
SIGINT (SIGTERM).`,
		Example: `  harness run experiments/mask_ratio.toml
  harness run experiments/mask_ratio.toml --dry-run
  harness run experiments/mask_ratio.toml --set train.steps=200 --workers 2 --db runs.db --out runs
  harness run experiments/mask_ratio.toml --sweep train.blr=1e-3,4e-3 --dry-run
  harness run experiments/ista_step.toml --sweep 'model.step_size={ log_uniform = [0.01, 1], count = 4 }'`,
		Args: keyValueArgs(&sets, cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if workers < 0 {
				return invalid(fmt.Errorf("--workers: must be >= 0, got %d", workers))
			}
			if runsPerGPU < 0 {
				return invalid(fmt.Errorf("--runs-per-gpu: must be >= 0, got %d", runsPerGPU))
			}
			x, runs, err := ablations.LoadWith(args[0], ablations.Options{Sets: sets, Sweeps: sweeps})
			if err != nil {
				return invalid(err)
			}
			for _, n := range x.Notes {
				fmt.Fprintln(cmd.ErrOrStderr(), "note:", n)
			}
			jobs, err := runner.Plan(runs)
			if err != nil {
				return invalid(err)
			}
			if err := ablations.CheckData(runs); err != nil {
				return invalid(err)
			}
			if err := checkOut(out, x.Name); err != nil {
				return invalid(err)
			}
			note, cuda, err := resolveDevices(trainDevices(jobs))
			if err != nil {
				return invalid(err)
			}
			overrides := versionOverrides(sets, sweeps)
			if dryRun {
				c, statuses, err := planStatuses(db, x.Name, x.Text, overrides, retryFailed, jobs)
				if err != nil {
					return err
				}
				w := cmd.OutOrStdout()
				fmt.Fprintln(w, describeChange(c))
				printPlan(w, x, jobs, statuses, placeRuns(jobs, cuda, runsPerGPU, workers), note)
				return nil
			}
			return execute(cmd, x, jobs, db, overrides, note, runner.Options{Out: out, Workers: workers, RetryFailed: retryFailed})
		},
	}
	cmd.Flags().StringVar(&db, "db", "harness.db", "the store, an SQLite file")
	cmd.Flags().StringVar(&out, "out", "out", "where runs keep checkpoints, artifacts and logs")
	cmd.Flags().StringArrayVar(&sets, "set", nil, "override a key of every run, as KEY=VALUE (repeatable)")
	cmd.Flags().StringArrayVar(&sweeps, "sweep", nil, "add an ablation axis, as KEY=V1,V2,... or KEY={ uniform = [A, B], count = N } (repeatable; replaces the file's axis of KEY)")
	cmd.Flags().IntVar(&workers, "workers", 0, "runs at once; 0: as many as the cores allow")
	cmd.Flags().IntVar(&runsPerGPU, "runs-per-gpu", 0, "runs at once on one GPU; 0: as many as fit its memory, at most 8 (no effect until the CUDA executor exists)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the version and the runs with their status and parameter counts, and do nothing else")
	cmd.Flags().BoolVar(&retryFailed, "retry-failed", false, "execute again the runs that failed before")
	return cmd
}

// versionOverrides are the command line's changes to the file that make a
// version of their own: each --set as KEY=VALUE, then each --sweep as
// "--sweep KEY=VALUES", since a sweep changes the runs as an axis of the
// file would.
func versionOverrides(sets, sweeps []string) []string {
	out := append([]string(nil), sets...)
	for _, s := range sweeps {
		out = append(out, "--sweep "+s)
	}
	return out
}

// execute runs the jobs of x in the store at db, first noting where they
// compute and why.
//
// It first records the file, with the overrides, as a version of the
// experiment and says how its runs differ from the version before.
func execute(cmd *cobra.Command, x *ablations.Experiment, jobs []runner.Job, db string, overrides []string, note string, opt runner.Options) error {
	exe, err := os.Executable()
	if err != nil {
		return failed(fmt.Errorf("find the harness binary for the workers: %w", err))
	}
	st, err := openStore(db)
	if err != nil {
		return err
	}
	defer st.Close()
	w := cmd.OutOrStdout()
	change, err := st.PutVersion(x.Name, x.Description, x.Text, overrides, versionRuns(jobs))
	if err != nil {
		return failed(err)
	}
	fmt.Fprintln(w, describeChange(change))
	ctx, kill, stop := runner.OnSignals(cmd.Context())
	defer stop()
	opt.Worker = []string{exe, "worker"}
	opt.Provenance = runner.CurrentProvenance()
	opt.Kill = kill
	opt.Progress = runner.NewProgress(w, runner.IsTerminal(w))
	if note != "" {
		opt.Progress.Note(note)
	}
	outcomes, err := runner.Run(ctx, st, x, jobs, opt)
	opt.Progress.Close()
	notDone := summarize(w, x, outcomes)
	if i, ok := errors.AsType[*runner.Interrupt](context.Cause(ctx)); ok {
		return interrupted(i)
	}
	if err != nil {
		return failed(err)
	}
	if notDone > 0 {
		return failed(fmt.Errorf("%d of %d runs of %s are not done", notDone, len(outcomes), x.Name))
	}
	return nil
}

// summarize prints how the runs stand and returns how many are not done.
func summarize(w io.Writer, x *ablations.Experiment, outcomes []runner.Outcome) (notDone int) {
	count := map[string]int{}
	executed := 0
	var failures []string
	for _, o := range outcomes {
		status := o.Status
		if status == "" {
			status = "not started"
		}
		count[status]++
		if o.Executed {
			executed++
		}
		if status != store.StatusDone {
			notDone++
		}
		// why a run failed, and why one executed now is not done (a fault
		// of the environment, an end the store could not record)
		if o.Status == store.StatusFailed || (o.Executed && o.Status != store.StatusDone && o.Error != "") {
			failures = append(failures, fmt.Sprintf("  run %d %s: %s: %s", o.RunID, o.Job.Run.Name, status, firstLine(o.Error)))
		}
	}
	parts := []string{fmt.Sprintf("%d executed now", executed)}
	for _, s := range []string{store.StatusDone, store.StatusFailed, store.StatusInterrupted, store.StatusRunning, "not started"} {
		if count[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[s], s))
		}
	}
	fmt.Fprintf(w, "%s: %d runs: %s\n", x.Name, len(outcomes), strings.Join(parts, ", "))
	for _, f := range failures {
		fmt.Fprintln(w, f)
	}
	return notDone
}

// printPlan prints the runs of a dry run, where each would compute, and
// the note on why.
func printPlan(w io.Writer, x *ablations.Experiment, jobs []runner.Job, statuses []string, p runner.Placement, note string) {
	fmt.Fprintf(w, "experiment %s: %d runs\n", x.Name, len(jobs))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "run\tstatus\tarch\tsteps\tparams total\ttrainable\tdevice")
	for i, j := range jobs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", j.Run.Name, statuses[i], j.Run.Spec.Model.Arch, j.Run.Spec.Train.Steps,
			numfmt.Thousands(j.Params.Total), numfmt.Thousands(j.Params.Trainable), p.Places[i].Device)
	}
	tw.Flush()
	printSlots(w, p, note)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// The modes of access(2): may write, may search a directory.
const (
	wOK = 0x2
	xOK = 0x1
)

// checkOut reports why the run directories of the experiment, under
// OUT/<experiment> as runner.Run makes them, could not be made: a path on
// the way that is not a directory, or the nearest existing directory not
// writable. It makes nothing.
func checkOut(out, experiment string) error {
	dir := filepath.Join(out, names.Escape(experiment))
	for p := dir; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		switch {
		case err == nil && !fi.IsDir():
			return fmt.Errorf("--out %s: %s exists and is not a directory", out, p)
		case err == nil:
			if err := syscall.Access(p, wOK|xOK); err != nil {
				return fmt.Errorf("--out %s: cannot write in %s: %w", out, p, err)
			}
			return nil
		case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR): // ENOTDIR: a file on the way, found above
			return fmt.Errorf("--out %s: %w", out, err)
		case filepath.Dir(p) == p:
			return nil
		}
	}
}
