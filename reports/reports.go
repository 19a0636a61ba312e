// Package reports writes a report of each experiment in the tracking store:
// DIR/<experiment>/report.md and report.html, with the figures beside them
// as PNG and SVG and the reconstruction grids the runs produced.
//
// It only reads the store. Runs are grouped into configurations, a
// variant with its ablation values; the runs of a configuration differ only
// in their seed, and their final metrics (the value at each key's last
// logged step) are summarised as mean ± sample standard deviation over the
// seeds that finished (status done). Only finished runs enter the tables
// and figures; the others are listed with their status and error. When a
// configuration and seed were run more than once (the experiment file
// changed in between), the latest run counts.
//
// The figures are drawn by package plots; every line of a chart has its
// own colour, dash pattern and marker, and lines with the same values are
// named as such in the legend:
//
//   - parameter efficiency, only where an architecture ran at more than
//     one size (else a sentence says why there is none): final
//     linear-probe accuracy and reconstruction loss against the total
//     parameter count (log axis), one series per architecture, one point
//     per size with error bars over seeds; where several configurations
//     share an architecture and size (other axes vary), the point is the
//     one with the best mean, named in the caption;
//   - for every ablation axis: the final metrics against the axis value,
//     ticked only at the values run (a log axis where positive values span
//     a factor of 20 or more, categories for non-numbers and for decades
//     with zero), one line per variant and setting of the other axes,
//     error bars over seeds; past plots.MaxSeries lines, one line per
//     variant pooling the other axes; the probes' charts carry the
//     baselines as reference lines;
//   - training curves: train/loss, eval/recon_loss, eval/linear_probe_acc
//     and eval/knn_acc against the step, one line per configuration, the
//     mean over seeds with a band of ± one standard deviation, split into
//     parts of plots.MaxSeries lines; the probes' curves carry as
//     reference lines the same probe on raw pixels
//     (eval/*_pixels, logged at step 0) and on each architecture's
//     untrained encoder (the step-0 evaluation);
//   - layer-wise: the final coding rate and sparsities of every encoder then
//     decoder layer on one continuous index, a dashed line where the
//     decoder starts, one line per configuration (per variant, pooling the
//     axes, past plots.MaxSeries lines), one chart per encoder depth;
//     sparsity (exact zeros) for CRATE-MAE only, as MAE's GELU gives none,
//     and Hoyer's sparsity, which compares both;
//   - the last reconstruction grid of each configuration's first finished
//     seed, copied as it is.
//
// The HTML fits a 1,400-pixel window: tables wrap, each metric column has
// one precision and its best value in bold, figures sit two to a row, and
// failed runs show one line of their error with the full log linked.
// Options.SingleFile inlines every image as a data: URI.
//
// CRATE-MAE runs are matched with MAE runs when they share every ablation
// axis value (an axis setting model.arch aside) and the seed; see
// [MatchingRule].
package reports

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"harness/internal/names"
	"harness/store"
)

// Options says what to report and where.
type Options struct {
	// Experiments names the experiments to report; empty means every
	// experiment in the store, recorded or only named by runs.
	Experiments []string
	// OutDir is the directory the reports go to, one subdirectory each.
	OutDir string
	// StorePath is the store's file, shown in the reports; relative
	// artifact paths not found from the working directory are looked up
	// from its directory.
	StorePath string
	// Now is the generation time shown in the reports; zero means now.
	Now time.Time
	// AllVersions reports the runs of every version of an experiment, not
	// only those of its current version (the file last run, whose text the
	// report shows).
	AllVersions bool
	// SingleFile makes report.html self-contained: its figures, grids
	// and logs inlined as data: URIs, so that it can be sent alone. The
	// files are still written beside it, for report.md.
	SingleFile bool
}

// A Result describes one written report.
type Result struct {
	Experiment string
	Dir        string   // the report's directory
	Markdown   string   // path of report.md
	HTML       string   // path of report.html
	Figures    []string // base names of the figures (add .png or .svg), relative to Dir
	Images     []string // copied reconstruction grids, relative to Dir
	Runs       int      // runs of the experiment
	Missing    int      // runs without results: failed or unfinished
}

// ErrUnknownExperiment is wrapped by the error for an experiment named in
// Options that the store does not hold.
var ErrUnknownExperiment = errors.New("no such experiment in the store")

// Generate writes the reports of the experiments opts names, or of every
// experiment, and returns what it wrote, in experiment order.
func Generate(s *store.Store, opts Options) ([]Result, error) {
	if opts.OutDir == "" {
		return nil, errors.New("reports: no output directory")
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	names, recorded, err := experimentNames(s, opts.Experiments)
	if err != nil {
		return nil, err
	}
	var results []Result
	for _, name := range names {
		exp, err := load(s, name, recorded[name], opts.AllVersions)
		if err != nil {
			return nil, fmt.Errorf("reports: experiment %s: %w", name, err)
		}
		r, err := write(exp, opts)
		if err != nil {
			return nil, fmt.Errorf("reports: experiment %s: %w", name, err)
		}
		results = append(results, r)
	}
	return results, nil
}

// experimentNames lists the experiments to report: those named, checked
// against the store, or all of them, with the recorded ones by name.
func experimentNames(s *store.Store, named []string) ([]string, map[string]store.Experiment, error) {
	exps, err := s.Experiments()
	if err != nil {
		return nil, nil, fmt.Errorf("reports: %w", err)
	}
	recorded := make(map[string]store.Experiment)
	known := make(map[string]bool)
	for _, e := range exps {
		recorded[e.Name] = e
		known[e.Name] = true
	}
	// runs name their experiment whether or not its file was recorded
	runs, err := s.Runs(store.Filter{})
	if err != nil {
		return nil, nil, fmt.Errorf("reports: %w", err)
	}
	for _, r := range runs {
		known[r.Experiment] = true
	}
	if len(named) == 0 {
		var all []string
		for n := range known {
			all = append(all, n)
		}
		sort.Strings(all)
		return all, recorded, nil
	}
	var out []string
	seen := make(map[string]bool)
	for _, n := range named {
		if !known[n] {
			var all []string
			for k := range known {
				all = append(all, k)
			}
			sort.Strings(all)
			return nil, nil, fmt.Errorf("reports: experiment %q: %w (it has: %s)", n, ErrUnknownExperiment, listOrNone(all))
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, recorded, nil
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// dirName is the name of an experiment's report directory: the name as
// names.Escape makes it safe, the same as its run directories' name.
func dirName(experiment string) string { return names.Escape(experiment) }

// resolve finds an artifact's file: an absolute path as it is, a relative
// one from the working directory, else from the store's directory.
func resolve(path, storePath string) (string, bool) {
	if filepath.IsAbs(path) || storePath == "" {
		_, err := os.Stat(path)
		return path, err == nil
	}
	if _, err := os.Stat(path); err == nil {
		return path, true
	}
	alt := filepath.Join(filepath.Dir(storePath), path)
	if _, err := os.Stat(alt); err == nil {
		return alt, true
	}
	return path, false
}
