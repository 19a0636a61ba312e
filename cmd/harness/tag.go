package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"harness/store"
)

// tagOptions are the options of harness tag.
type tagOptions struct {
	db, experiment string
	allVersions    bool
	add, remove    []string
	refs           []string
	stdout         io.Writer
}

func newTagCmd() *cobra.Command {
	opts := &tagOptions{}
	cmd := &cobra.Command{
		Use:   "tag RUN... [--add KEY[=VALUE]]... [--remove KEY]...",
		Short: "Add tags to runs, or remove them",
		Long: `Adds tags (a key, with an optional value) to the runs named, by id or by name
as show resolves it, and removes tags by key; a key a run has already gets
the new value. It prints each run's tags after the change. ls, show and the
report list the tags.`,
		Example: `  harness tag 12 13 --add best --add lr=1e-3
  harness tag CRATE-MAE/seed=0 --experiment fm_heads --remove best`,
		DisableFlagsInUseLine: true,
		Args:                  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.refs, opts.stdout = args, cmd.OutOrStdout()
			return runTag(opts)
		},
	}
	cmd.Flags().StringVar(&opts.db, "db", "harness.db", "the store, an SQLite file")
	cmd.Flags().StringVar(&opts.experiment, "experiment", "", "the experiment whose runs the names name")
	cmd.Flags().BoolVar(&opts.allVersions, "all-versions", false, "a name means the one run of that name in any version, not the one of the current version")
	cmd.Flags().StringArrayVar(&opts.add, "add", nil, "add the tag KEY or KEY=VALUE (repeatable)")
	cmd.Flags().StringArrayVar(&opts.remove, "remove", nil, "remove the tag KEY (repeatable)")
	return cmd
}

// runTag changes the tags of the runs opts names.
func runTag(opts *tagOptions) error {
	if len(opts.add) == 0 && len(opts.remove) == 0 {
		return invalid(errors.New("tag: give --add KEY[=VALUE] or --remove KEY"))
	}
	var add []store.Tag
	for _, a := range opts.add {
		k, v, _ := strings.Cut(a, "=")
		if k = strings.TrimSpace(k); k == "" {
			return invalid(fmt.Errorf("tag: --add %q: empty key", a))
		}
		add = append(add, store.Tag{Key: k, Value: v})
	}
	for _, k := range opts.remove {
		if strings.TrimSpace(k) == "" || strings.Contains(k, "=") {
			return invalid(fmt.Errorf("tag: --remove %q: want a key", k))
		}
	}
	st, err := writeStore(opts.db)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := checkExperiments(st, opts.db, opts.experiment); err != nil {
		return err
	}
	runs, err := resolveRuns(st, opts.refs, opts.experiment, opts.allVersions)
	if err != nil {
		return err
	}
	if err := st.SetTags(runIDs(runs), add, opts.remove); err != nil {
		return failed(err)
	}
	tags, err := st.Tags(runIDs(runs)...)
	if err != nil {
		return failed(err)
	}
	for _, r := range runs {
		fmt.Fprintf(opts.stdout, "run %d %s: %s\n", r.ID, r.Name, tagsText(tags[r.ID]))
	}
	return nil
}

// resolveRuns resolves refs as resolveRun does, each run once.
func resolveRuns(st *store.Store, refs []string, experiment string, allVersions bool) ([]store.Run, error) {
	var runs []store.Run
	seen := map[int64]bool{}
	for _, ref := range refs {
		r, _, err := resolveRun(st, ref, experiment, allVersions)
		if err != nil {
			return nil, err
		}
		if !seen[r.ID] {
			seen[r.ID] = true
			runs = append(runs, r)
		}
	}
	return runs, nil
}

// noteOptions are the options of harness note.
type noteOptions struct {
	db, experiment string
	allVersions    bool
	args           []string
	stdout         io.Writer
}

func newNoteCmd() *cobra.Command {
	opts := &noteOptions{}
	cmd := &cobra.Command{
		Use:   "note RUN TEXT | note --experiment NAME TEXT",
		Short: "Add a note to a run or an experiment",
		Long: `Adds a note, free text stamped with the time, to a run (by id, or by name as
show resolves it) or, given --experiment and no RUN, to the experiment. A run
or experiment keeps every note added; show lists a run's notes, and the
report an experiment's.`,
		Example: `  harness note 12 "diverged once the step size passed 0.5"
  harness note --experiment fm_heads "heads study for the workshop paper"
  harness note MAE/seed=0 --experiment fm_heads "baseline"`,
		DisableFlagsInUseLine: true,
		Args:                  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.args, opts.stdout = args, cmd.OutOrStdout()
			return runNote(opts)
		},
	}
	cmd.Flags().StringVar(&opts.db, "db", "harness.db", "the store, an SQLite file")
	cmd.Flags().BoolVar(&opts.allVersions, "all-versions", false, "a name means the one run of that name in any version, not the one of the current version")
	cmd.Flags().StringVar(&opts.experiment, "experiment", "", "note the experiment, or with RUN: the experiment whose runs the name names")
	return cmd
}

// runNote adds the note opts gives.
func runNote(opts *noteOptions) error {
	if len(opts.args) == 1 && opts.experiment == "" {
		return invalid(errors.New("note: give RUN TEXT, or --experiment NAME TEXT"))
	}
	text := opts.args[len(opts.args)-1]
	if strings.TrimSpace(text) == "" {
		return invalid(errors.New("note: the text is empty"))
	}
	st, err := writeStore(opts.db)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := checkExperiments(st, opts.db, opts.experiment); err != nil {
		return err
	}
	n := store.Note{Experiment: opts.experiment, Text: text}
	what := "experiment " + opts.experiment
	if len(opts.args) == 2 {
		r, _, err := resolveRun(st, opts.args[0], opts.experiment, opts.allVersions)
		if err != nil {
			return err
		}
		n = store.Note{RunID: r.ID, Text: text}
		what = fmt.Sprintf("run %d %s", r.ID, r.Name)
	}
	if err := st.AddNote(n); err != nil {
		return failed(err)
	}
	fmt.Fprintf(opts.stdout, "noted on %s at %s\n", what, time.Now().UTC().Format(time.RFC3339))
	return nil
}
