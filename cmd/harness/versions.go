package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"harness/runner"
	"harness/store"
)

// versionRuns lists the runs of the jobs as a version records them.
func versionRuns(jobs []runner.Job) []store.VersionRun {
	vr := make([]store.VersionRun, len(jobs))
	for i, j := range jobs {
		vr[i] = store.VersionRun{Name: j.Run.Name, ConfigHash: j.Hash}
	}
	return vr
}

// describeChange says which version of its experiment a file is and how
// its runs differ from the version before:
//
//	experiment fm_heads: version 3 (changed from version 2): 4 runs added, 4 runs no longer in the file (kept in the store, see --all-versions), 4 unchanged
func describeChange(c store.VersionChange) string {
	head := fmt.Sprintf("experiment %s: version %d", c.Experiment, c.Version)
	n := len(c.Added) + len(c.Unchanged)
	switch {
	case c.Previous == 0 && c.New:
		return fmt.Sprintf("%s (new): %s", head, plural(n, "run"))
	case !c.New:
		return fmt.Sprintf("%s (unchanged): %s", head, plural(n, "run"))
	}
	added := plural(len(c.Added), "run") + " added"
	if c.Known > 0 {
		added += fmt.Sprintf(" (%d of them in the store from an earlier version)", c.Known)
	}
	parts := []string{
		added,
		plural(len(c.Removed), "run") + " no longer in the file",
	}
	if len(c.Removed) > 0 {
		parts[1] += " (kept in the store, see --all-versions)"
	}
	parts = append(parts, fmt.Sprintf("%d unchanged", len(c.Unchanged)))
	return fmt.Sprintf("%s (changed from version %d): %s", head, c.Previous, strings.Join(parts, ", "))
}

// plural is "1 run", "2 runs", "2 run directories".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	if s, ok := strings.CutSuffix(noun, "y"); ok {
		return fmt.Sprintf("%d %sies", n, s)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// planStatus is the status harness run --dry-run shows for a run the store
// has as r (found false: not at all): what the run would do, given
// --retry-failed or not.
func planStatus(r store.Run, found, retryFailed bool, live runner.Liveness) string {
	switch {
	case !found, r.Status == store.StatusPending:
		return "new"
	case r.Status == store.StatusFailed && retryFailed:
		return "failed (retried)"
	case r.Status == store.StatusInterrupted:
		return "interrupted (resumable)"
	case r.Status == store.StatusRunning && live.Gone(r):
		return "resumable (owner gone)"
	case r.Status == store.StatusRunning:
		return fmt.Sprintf("running (pid %d on %s)", r.Owner.PID, r.Owner.Host)
	}
	return r.Status
}

// planStatuses reads, without writing, how the store at db stands for the
// jobs of experiment: the version the file would be and each job's
// status. A store not made yet has none of them.
func planStatuses(db, experiment, text string, overrides []string, retryFailed bool, jobs []runner.Job) (store.VersionChange, []string, error) {
	statuses := make([]string, len(jobs))
	if _, err := os.Stat(db); errors.Is(err, fs.ErrNotExist) {
		for i := range statuses {
			statuses[i] = "new"
		}
		return store.PlanNewVersion(experiment, versionRuns(jobs)), statuses, nil
	}
	st, err := readStore(db)
	if err != nil {
		return store.VersionChange{}, nil, err
	}
	defer st.Close()
	c, err := st.PlanVersion(experiment, text, overrides, versionRuns(jobs))
	if err != nil {
		return store.VersionChange{}, nil, failed(err)
	}
	live := runner.NewLiveness(runner.CurrentProvenance().Host)
	for i, j := range jobs {
		r, err := st.RunByHash(experiment, j.Hash)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.VersionChange{}, nil, failed(err)
		}
		statuses[i] = planStatus(r, err == nil, retryFailed, live)
	}
	return c, statuses, nil
}

// resolveRun finds the run ref names: an id, or a name. A name means the
// run of that name in the current version of its experiment (--experiment,
// or the one experiment with a run of that name), or with allVersions the
// one run of that name in any version; a name that several runs answer to
// is refused, naming their ids. note, when not empty, says that other
// versions have a run of the name too.
func resolveRun(st *store.Store, ref, experiment string, allVersions bool) (r store.Run, note string, err error) {
	if id, perr := strconv.ParseInt(ref, 10, 64); perr == nil {
		r, err := st.Run(id)
		if errors.Is(err, store.ErrNotFound) {
			return store.Run{}, "", invalid(err)
		}
		if err != nil {
			return store.Run{}, "", failed(err)
		}
		if experiment != "" && r.Experiment != experiment {
			return store.Run{}, "", invalid(fmt.Errorf("run %d belongs to experiment %s, not %s", id, r.Experiment, experiment))
		}
		return r, "", nil
	}
	all, err := st.Runs(store.Filter{Experiment: experiment, Name: ref})
	if err != nil {
		return store.Run{}, "", failed(err)
	}
	current, err := st.Runs(store.Filter{Experiment: experiment, Name: ref, Current: true})
	if err != nil {
		return store.Run{}, "", failed(err)
	}
	in := ""
	if experiment != "" {
		in = " in experiment " + experiment
	}
	if len(all) == 0 {
		return store.Run{}, "", invalid(fmt.Errorf("no run named %s%s", ref, in))
	}
	pick := current
	if allVersions {
		pick = all
	}
	var exps []string
	for _, r := range pick {
		if !slices.Contains(exps, r.Experiment) {
			exps = append(exps, r.Experiment)
		}
	}
	if len(exps) > 1 {
		return store.Run{}, "", invalid(fmt.Errorf("run %s: %w: the experiments %s all have a run of that name; give --experiment or the run's id",
			ref, runner.ErrAmbiguous, strings.Join(exps, ", ")))
	}
	if len(pick) == 0 {
		list, err := listVersions(st, all)
		if err != nil {
			return store.Run{}, "", err
		}
		return store.Run{}, "", invalid(fmt.Errorf("no run named %s in the current version of %s; other versions have %s: give the run's id, or --all-versions",
			ref, all[0].Experiment, list))
	}
	if len(pick) > 1 {
		list, err := listVersions(st, pick)
		if err != nil {
			return store.Run{}, "", err
		}
		return store.Run{}, "", invalid(fmt.Errorf("run %s: %w: %s of %s have that name; give the run's id",
			ref, runner.ErrAmbiguous, list, pick[0].Experiment))
	}
	r = pick[0]
	var others []store.Run
	for _, o := range all {
		if o.ID != r.ID && o.Experiment == r.Experiment {
			others = append(others, o)
		}
	}
	if len(others) > 0 && !allVersions {
		list, err := listVersions(st, others)
		if err != nil {
			return store.Run{}, "", err
		}
		note = fmt.Sprintf("%s is run %d of the current version of %s; other versions have %s of that name (see --all-versions)",
			ref, r.ID, r.Experiment, list)
	}
	return r, note, nil
}

// listVersions names runs of one experiment with their versions: "runs 3
// (version 1), 7 (versions 2, 3)".
func listVersions(st *store.Store, runs []store.Run) (string, error) {
	rv, err := st.RunVersions(runs[0].Experiment)
	if err != nil {
		return "", failed(err)
	}
	var parts []string
	for _, r := range runs {
		parts = append(parts, fmt.Sprintf("%d (%s)", r.ID, versionsText(rv[r.ConfigHash])))
	}
	word := "runs "
	if len(runs) == 1 {
		word = "run "
	}
	return word + strings.Join(parts, ", "), nil
}

// versionsText is "version 1", "versions 1, 3", or "no version".
func versionsText(vs []int) string {
	if len(vs) == 0 {
		return "no version"
	}
	var s []string
	for _, v := range vs {
		s = append(s, strconv.Itoa(v))
	}
	if len(vs) == 1 {
		return "version " + s[0]
	}
	return "versions " + strings.Join(s, ", ")
}

// tagsText is a run's tags as harness ls shows them: "best,lr=0.1", or
// "-".
func tagsText(tags []store.Tag) string {
	if len(tags) == 0 {
		return "-"
	}
	var s []string
	for _, t := range tags {
		s = append(s, t.String())
	}
	return strings.Join(s, ",")
}

// isTerminal reports whether r is a terminal: a file that answers the
// terminal's ioctl, which /dev/null, a character device too, does not.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return errno == 0
}

// writeStore opens the existing store at path for writing, as rm, tag
// and note do: unlike openStore, it makes no store where there is none.
func writeStore(path string) (*store.Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, invalid(fmt.Errorf("store %s: %w (give its path with --db)", path, err))
	}
	return openStore(path)
}
