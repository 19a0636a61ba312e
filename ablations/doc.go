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
// The runs are the variants, in file order; for each, every combination of
// the ablation axes, the first axis outermost; for each, every seed.
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
//  5. the run's ablation values, in file order;
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
// file has no variants. The seed part is always there.
//
// # Errors
//
// [Load] and [Parse] refuse, before anything runs, a TOML syntax error
// (as "file:line: ..."), a missing experiment name, an unknown table or
// key, a value of the wrong type, duplicate variant names, axis names,
// axis keys or axis values, an ablation without values, an override of a
// key that a variant or an ablation sets, and any expanded run whose
// configuration fails training.Spec.Validate. Errors begin with the file
// and name the part of the file or the override at fault, with its value:
//
//	experiments/x.toml: run "MAE/seed=0": variant "MAE": set "model.num_heads" = 5: model.num_heads: 5 heads do not divide model.embed_dim 384
//
// [CheckData] opens the datasets the runs need; Load and Parse do not.
// Every error the three return wraps [ErrInvalid].
package ablations
