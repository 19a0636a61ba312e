package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"harness/internal/names"
	"harness/runner"
	"harness/store"
)

// rmOptions are the options of harness rm.
type rmOptions struct {
	db, out     string
	experiment  string
	yes         bool
	allVersions bool
	refs        []string // runs, by id or name

	in          io.Reader
	stdout      io.Writer
	stderr      io.Writer
	interactive bool // in is a terminal
}

func newRmCmd() *cobra.Command {
	opts := &rmOptions{}
	cmd := &cobra.Command{
		Use:   "rm RUN... | rm --experiment NAME",
		Short: "Delete runs, or a whole experiment, with their run directories",
		Long: `Deletes the runs named (by id, or by name as show resolves it: in the current
version of --experiment or of the one experiment with a run of that name)
with their metrics, artifacts, tags, notes and version memberships, and their
run directories under --out (OUT/<experiment>/<store id>-<run id>, as harness
run made them with that --out). Given --experiment and no RUN, it deletes the
experiment whole: every run of every version, the versions, the experiment's
notes and its recorded file.

A run directory is deleted only when it lies inside --out and its run.json
names the run deleted in this store; others are left, and said so. A run
running under a harness that is alive is not deleted: nothing is, and rm
exits with status 2.

rm asks before deleting; --yes deletes without asking. Without --yes and
with no terminal to ask on, rm deletes nothing and exits with status 2.

Exit status: 0 deleted (or nothing, when the answer was no), 1 the runs are
deleted from the store but a directory of theirs is left, 2 invalid input
(a run or experiment the store does not have, a store that is missing, a
running run, no --yes without a terminal): nothing deleted.`,
		Example: `  harness rm 12 13
  harness rm CRATE-MAE/seed=0 --experiment fm_heads --yes
  harness rm --experiment fm_heads --out runs --db runs/harness.db`,
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.refs = args
			opts.in, opts.stdout, opts.stderr = cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()
			opts.interactive = isTerminal(opts.in)
			return runRm(opts)
		},
	}
	cmd.Flags().StringVar(&opts.db, "db", "harness.db", "the store, an SQLite file")
	cmd.Flags().StringVar(&opts.out, "out", "out", "where the runs keep their directories, as given to harness run")
	cmd.Flags().StringVar(&opts.experiment, "experiment", "", "delete this experiment whole, or with RUN: the experiment whose runs the names name")
	cmd.Flags().BoolVar(&opts.allVersions, "all-versions", false, "a name means the one run of that name in any version, not the one of the current version")
	cmd.Flags().BoolVarP(&opts.yes, "yes", "y", false, "delete without asking")
	return cmd
}

// runRm deletes what opts names.
func runRm(opts *rmOptions) error {
	if len(opts.refs) == 0 && opts.experiment == "" {
		return invalid(errors.New("rm: name the runs to delete, or --experiment"))
	}
	out, err := filepath.Abs(opts.out)
	if err != nil {
		return invalid(fmt.Errorf("--out %s: %w", opts.out, err))
	}
	st, err := writeStore(opts.db)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := checkExperiments(st, opts.db, opts.experiment); err != nil {
		return err
	}
	storeID, err := st.ID()
	if err != nil {
		return failed(err)
	}
	whole := len(opts.refs) == 0
	var runs []store.Run
	if whole {
		if runs, err = st.Runs(store.Filter{Experiment: opts.experiment}); err != nil {
			return failed(err)
		}
	} else if runs, err = resolveRuns(st, opts.refs, opts.experiment, opts.allVersions); err != nil {
		return err
	}
	live := runner.NewLiveness(runner.CurrentProvenance().Host)
	check := func(r store.Run) error {
		if r.Status == store.StatusRunning && !live.Gone(r) {
			return fmt.Errorf("run %d (%s) is running in pid %d on %s; stop that harness first", r.ID, r.Name, r.Owner.PID, r.Owner.Host)
		}
		return nil
	}
	for _, r := range runs {
		if err := check(r); err != nil {
			return invalid(fmt.Errorf("rm: nothing deleted: %w", err))
		}
	}
	what := describeRuns(runs) + " and their directories"
	if whole {
		what = fmt.Sprintf("experiment %s: %s of every version with their directories, its versions and notes",
			opts.experiment, plural(len(runs), "run"))
	}
	if !opts.yes {
		if !opts.interactive {
			return invalid(fmt.Errorf("rm: would delete %s; give --yes to delete without a terminal to ask on", what))
		}
		fmt.Fprintf(opts.stderr, "delete %s? [y/N] ", what)
		line, _ := bufio.NewReader(opts.in).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			fmt.Fprintln(opts.stdout, "nothing deleted")
			return nil
		}
	}
	var deleted []store.Run
	if whole {
		deleted, err = st.DeleteExperiment(opts.experiment, check)
	} else {
		deleted, err = st.DeleteRuns(runIDs(runs), check)
	}
	if errors.Is(err, store.ErrNotFound) {
		return invalid(fmt.Errorf("rm: nothing deleted: %w", err))
	}
	if err != nil {
		return failed(fmt.Errorf("rm: nothing deleted: %w", err))
	}
	removed, none := 0, 0
	var problems []string
	for _, r := range deleted {
		dir := runner.RunDir(out, r.Experiment, storeID, r.ID)
		ok, err := removeRunDir(out, dir, storeID, r)
		switch {
		case err != nil:
			problems = append(problems, err.Error())
		case ok:
			removed++
		case !r.StartedAt.IsZero():
			none++ // started, so it had a directory: under another --out?
		}
	}
	if whole {
		// the experiment's directory, if nothing else is left in it
		os.Remove(filepath.Join(out, names.Escape(opts.experiment)))
	}
	fmt.Fprintf(opts.stdout, "deleted %s; %s removed\n", describeRuns(deleted), plural(removed, "run directory"))
	if none > 0 {
		fmt.Fprintf(opts.stderr, "harness: rm: %s started but %s no directory under %s; if they ran with another --out, their directories are still there\n",
			plural(none, "run"), map[bool]string{true: "has", false: "have"}[none == 1], out)
	}
	for _, p := range problems {
		fmt.Fprintln(opts.stderr, "harness: rm:", p)
	}
	if len(problems) > 0 {
		return failed(fmt.Errorf("rm: the runs are deleted from the store, but %d of their directories are left", len(problems)))
	}
	return nil
}

// describeRuns is "4 runs of fm_heads", "3 runs of a, b".
func describeRuns(runs []store.Run) string {
	var exps []string
	for _, r := range runs {
		if !slices.Contains(exps, r.Experiment) {
			exps = append(exps, r.Experiment)
		}
	}
	s := plural(len(runs), "run")
	if len(exps) > 0 {
		s += " of " + strings.Join(exps, ", ")
	}
	return s
}

func runIDs(runs []store.Run) []int64 {
	ids := make([]int64, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	return ids
}

// removeRunDir removes the run directory dir of the deleted run r, and
// reports whether it did: not when there is none. It refuses, with an
// error naming it, a directory outside out (after resolving symbolic
// links) and one whose marker does not name r of the store storeID.
func removeRunDir(out, dir, storeID string, r store.Run) (bool, error) {
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err := inside(out, dir); err != nil {
		return false, fmt.Errorf("run %d: %w; left it", r.ID, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, runner.MarkerName))
	if err != nil {
		return false, fmt.Errorf("run %d: %s: %w; left it", r.ID, dir, err)
	}
	var m runner.Marker
	if err := json.Unmarshal(b, &m); err != nil {
		return false, fmt.Errorf("run %d: %s: %s: %w; left it", r.ID, dir, runner.MarkerName, err)
	}
	if m != (runner.Marker{StoreID: storeID, RunID: r.ID, ConfigHash: r.ConfigHash}) {
		return false, fmt.Errorf("run %d: %s belongs to run %d (configuration %s) of store %s, not to this run; left it",
			r.ID, dir, m.RunID, m.ConfigHash, m.StoreID)
	}
	if err := os.RemoveAll(dir); err != nil {
		return false, fmt.Errorf("run %d: %w", r.ID, err)
	}
	return true, nil
}

// inside reports an error unless path lies strictly inside the directory
// root once both have their symbolic links resolved.
func inside(root, path string) error {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return fmt.Errorf("--out %s: %w", root, err)
	}
	realPath, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(realRoot, realPath)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return fmt.Errorf("%s (%s) is not inside --out %s", path, realPath, root)
	}
	return nil
}
