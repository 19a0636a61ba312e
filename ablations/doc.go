// Package ablations reads experiment files and expands them into runs:
// every variant, times every combination of the ablation axes, times every
// seed.
//
// # Experiment files
//
// An experiment file is TOML:
//
//	[experiment]
//	name = "mask_ratio"        # required; groups the runs in the store, names a directory (see names.Check)
//	description = "CRATE-MAE against MAE across mask ratios"
//	seeds = [0, 1]             # every run is repeated per seed; default [0]
//
//	[model]                    # keys of model.Config
//	preset = "mae_crate_tiny"  # optional: a model.Presets name the keys start from
//	img_size = 28
//
//	[data]                     # keys of data.Config
//	[train]                    # keys of training.Config
//	[eval]                     # keys of evaluation.Config
//
//	[[variant]]                # a named bundle of overrides
//	name = "CRATE-MAE"
//	set = { "model.arch" = "crate" }
//
//	[[ablation]]               # one axis: a dotted key and its values
//	key = "train.mask_ratio"
//	values = [0.5, 0.75, 0.9]
//
//	[report]                   # optional: another experiment's runs as a reference
//	reference = { experiment = "mask_ratio", variant = "MAE" }
//
// The runs are the variants, in file order; for each, every combination of
// the ablation axes that apply to it, the first axis outermost; for each,
// every seed.
// Without [[variant]] there is one unnamed variant. A variant's set takes
// dotted keys, quoted ("model.arch" = "crate") or not (model.arch = "crate").
//
// An ablation may also be bundled, setting several keys at each of its
// values. It then has no key but a name, the labels that stand for its
// values in run names, and tables of dotted keys as values:
//
//	[[ablation]]
//	name = "heads"
//	labels = ["2", "4"]
//	values = [
//	  { "model.num_heads" = 2, "model.decoder_num_heads" = 2 },
//	  { "model.num_heads" = 4, "model.decoder_num_heads" = 4 },
//	]
//
// The values may also be written as [[ablation.values]] tables. A keyed
// ablation may have labels and a name too; its name defaults to the last
// part of its key and its labels to its values as written. Labels and
// names are what run names and Run.Axes show.
//
// # Axes of some variants
//
// An ablation applies to every variant unless it names those it applies
// to; the others get no such axis, and run once per seed and combination
// of their other axes, named without it:
//
//	[[ablation]]
//	key = "model.step_size"
//	variants = ["CRATE-MAE"]   # MAE has no ISTA step
//	values = [0.05, 0.1]
//
// makes CRATE-MAE/step_size=0.05/seed=0, CRATE-MAE/step_size=0.1/seed=0
// and MAE/seed=0. Run.Axes holds only the axes a run has. A name that is
// no variant of the file is refused, naming the axis and the name.
//
// # Sampled values
//
// A keyed ablation's values may be drawn rather than listed:
//
//	values = { log_uniform = [1e-4, 1e-2], count = 8 }   # float keys
//	values = { uniform = [0.5, 0.9], count = 4 }         # float keys
//	values = { int_uniform = [1, 8], count = 3 }         # integer keys, both bounds included
//
// with the experiment's first seed, or the table's seed (seed = 3). Floats
// are rounded to [SampleDigits] (4) significant digits, so that run names
// stay readable ("blr=0.0002165"), and may so land on a bound; a value
// drawn twice, after rounding, is drawn again. The values run in ascending
// order. The generator is math/rand/v2's PCG seeded with (seed, FNV-1a-64
// of the key), of which only the raw 64-bit outputs are used; see sample
// in sample.go for the arithmetic. With seed 0, the log_uniform table
// above on train.blr draws 0.0002165, 0.0004059, 0.0004492, 0.001226,
// 0.001523, 0.001696, 0.008988 and 0.009003; the tests pin these values.
// Refused, naming the axis: a count below 1 or over [MaxSampleCount], a
// low bound not below the high one, log_uniform bounds <= 0, uniform or
// log_uniform on an integer key (use int_uniform), int_uniform on a float
// key, any other key type, an unknown key of the table, labels, a bundle,
// an int_uniform count over the integers of its range, and a range too
// narrow for count distinct values at 4 digits (100 draws per value).
//
// # Sweeps
//
// [ParseWith] and [LoadWith] take sweeps from the command line (harness
// run --sweep), Hydra's way: "train.mask_ratio=0.5,0.75,0.9" adds an axis
// of that key, after the file's axes, for every variant; its values are
// split at the commas outside brackets and quotes and read as an override's
// (below), with the key's type and the checks and messages of --set. A
// sweep may also sample: "train.blr={ log_uniform = [1e-4, 1e-2], count = 4 }".
// On a key the file already ablates (a keyed axis), the sweep takes that
// axis's place, keeping its name and variants, and Experiment.Notes says
// so. A key of a bundle, a key swept twice and an override of a swept key
// are refused. The runs a sweep makes are those of a file with the axis:
// same names, same JSON, same hashes.
//
// # Report reference
//
// [report] reference names runs of another experiment that a report of
// this one draws as a reference (Experiment.Reference, a [Reference]):
//
//	[report]
//	reference = { experiment = "mask_ratio", variant = "MAE", axes = { "train.mask_ratio" = 0.75 } }
//
// experiment is required; variant ("" for all) and axes (axis values by
// the dotted key or a bundle's name, compared as printed) select its runs;
// see [Reference.Matches]. Whether the experiment and such runs exist is
// for the report to find: Load and Parse open no store.
//
// # Precedence
//
// A run's configuration is built from, lowest first:
//
//  1. the defaults of training.DefaultSpec;
//  2. the model preset: model.preset may be given in the model table, in
//     a variant's set, as an ablation key or by --set, and the one of
//     highest precedence below names the preset the run's model starts from;
//  3. the keys of the model, data, train and eval tables;
//  4. the set of the run's variant;
//  5. the run's ablation values, in the order of the axes: the file's
//     (a sweep that replaces one in its place), then the sweeps added;
//  6. the overrides given to [Load] and [Parse] (--set KEY=VALUE), which
//     apply to every run.
//
// A key may belong to one ablation axis only, and an override may not set a
// key that a variant or an ablation sets: the run names would no longer
// describe the runs. Values are type-checked against the field they set:
// integer fields take integers, float fields integers or floats, boolean
// and string fields only booleans and strings. An override's value is read
// as a TOML value, except for string fields, which take it as it is
// (quoted or bare), as package keys does.
//
// # Run names
//
// A run is named "<variant>/<axis>=<value>/.../seed=<seed>", for example
// "CRATE-MAE/mask_ratio=0.5/seed=0", leaving out the variant part when the
// file has no variants, and the parts of axes that do not apply to the
// run's variant. The seed part is always there.
//
// # Errors
//
// [Load] and [Parse] refuse, before anything runs, a TOML syntax error
// (as "file:line: ..."), a missing experiment name, an unknown table or
// key, a value of the wrong type, duplicate variant names, axis names,
// axis keys or axis values, an ablation without values, an axis's
// variants that name no variant, a bad sampled-values table or --sweep, a
// bad [report] reference, an override of a key that a variant, an
// ablation or a sweep sets, and any expanded run whose
// configuration fails training.Spec.Validate. Errors begin with the file
// and name the part of the file or the override at fault, with its value:
//
//	experiments/x.toml: run "MAE/seed=0": variant "MAE": set "model.num_heads" = 5: model.num_heads: 5 heads do not divide model.embed_dim 384
//
// [CheckData] opens the datasets the runs need; Load and Parse do not.
// Every error the three return wraps [ErrInvalid].
package ablations
