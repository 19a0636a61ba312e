package ablations

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// twoVariants is an experiment of CRATE-MAE and MAE with two seeds.
const twoVariants = head + `seeds = [0, 1]
[[variant]]
name = "CRATE-MAE"
set = { "model.arch" = "crate" }
[[variant]]
name = "MAE"
set = { "model.arch" = "vit" }
`

// An axis that names its variants gives the others no such axis: one run
// per seed and combination of the other axes, named without it.
func TestAxisVariants(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"step size for CRATE-MAE only", twoVariants + `
[[ablation]]
key = "model.step_size"
variants = ["CRATE-MAE"]
values = [0.05, 0.1]
`, []string{
			"CRATE-MAE/step_size=0.05/seed=0", "CRATE-MAE/step_size=0.05/seed=1",
			"CRATE-MAE/step_size=0.1/seed=0", "CRATE-MAE/step_size=0.1/seed=1",
			"MAE/seed=0", "MAE/seed=1",
		}},
		{"a restricted axis among others", twoVariants + `
[[ablation]]
key = "train.mask_ratio"
values = [0.5, 0.9]
[[ablation]]
key = "model.step_size"
variants = ["CRATE-MAE"]
values = [0.05, 0.1]
`, []string{
			"CRATE-MAE/mask_ratio=0.5/step_size=0.05/seed=0", "CRATE-MAE/mask_ratio=0.5/step_size=0.05/seed=1",
			"CRATE-MAE/mask_ratio=0.5/step_size=0.1/seed=0", "CRATE-MAE/mask_ratio=0.5/step_size=0.1/seed=1",
			"CRATE-MAE/mask_ratio=0.9/step_size=0.05/seed=0", "CRATE-MAE/mask_ratio=0.9/step_size=0.05/seed=1",
			"CRATE-MAE/mask_ratio=0.9/step_size=0.1/seed=0", "CRATE-MAE/mask_ratio=0.9/step_size=0.1/seed=1",
			"MAE/mask_ratio=0.5/seed=0", "MAE/mask_ratio=0.5/seed=1",
			"MAE/mask_ratio=0.9/seed=0", "MAE/mask_ratio=0.9/seed=1",
		}},
		{"naming every variant is no restriction", twoVariants + `
[[ablation]]
key = "train.mask_ratio"
variants = ["MAE", "CRATE-MAE"]
values = [0.5]
`, []string{"CRATE-MAE/mask_ratio=0.5/seed=0", "CRATE-MAE/mask_ratio=0.5/seed=1", "MAE/mask_ratio=0.5/seed=0", "MAE/mask_ratio=0.5/seed=1"}},
		{"a bundle for MAE only", twoVariants + `
[[ablation]]
name = "heads"
variants = ["MAE"]
labels = ["1", "2"]
values = [{ "model.num_heads" = 1 }, { "model.num_heads" = 2 }]
`, []string{"CRATE-MAE/seed=0", "CRATE-MAE/seed=1", "MAE/heads=1/seed=0", "MAE/heads=1/seed=1", "MAE/heads=2/seed=0", "MAE/heads=2/seed=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, runs := parse(t, tt.text)
			if got := runNames(runs); !slices.Equal(got, tt.want) {
				t.Errorf("got %d runs\n%s\nwant %d\n%s", len(got), strings.Join(got, "\n"), len(tt.want), strings.Join(tt.want, "\n"))
			}
		})
	}
	_, runs := parse(t, tests[0].text)
	if mae := runs[len(runs)-1]; len(mae.Axes) != 0 || mae.Variant != "MAE" {
		t.Errorf("MAE run %s has axes %v", mae.Name, mae.Axes)
	}
	if c := runs[0]; !slices.Equal(c.Axes, []AxisValue{{"model.step_size", 0.05}}) || c.Spec.Model.StepSize != 0.05 {
		t.Errorf("CRATE-MAE run %s: axes %v, step size %v", c.Name, c.Axes, c.Spec.Model.StepSize)
	}
}

// parseOpt parses text as x.toml with opt.
func parseOpt(t *testing.T, text string, opt Options) (*Experiment, []Run) {
	t.Helper()
	x, runs, err := ParseWith([]byte(text), "x.toml", opt)
	if err != nil {
		t.Fatalf("ParseWith: %v\n%s", err, text)
	}
	return x, runs
}

func TestSweep(t *testing.T) {
	const stepAxis = `
[[ablation]]
key = "model.step_size"
variants = ["CRATE-MAE"]
values = [0.05, 0.1]
`
	tests := []struct {
		name, text string
		sweeps     []string
		want       []string
		note       string // in Experiment.Notes, or none
	}{
		{"adds an axis, innermost", head + "[[ablation]]\nkey = \"model.depth\"\nvalues = [1, 2]\n",
			[]string{"train.mask_ratio=0.5,0.75,0.9"},
			[]string{"depth=1/mask_ratio=0.5/seed=0", "depth=1/mask_ratio=0.75/seed=0", "depth=1/mask_ratio=0.9/seed=0",
				"depth=2/mask_ratio=0.5/seed=0", "depth=2/mask_ratio=0.75/seed=0", "depth=2/mask_ratio=0.9/seed=0"}, ""},
		{"repeatable, spaces allowed", head,
			[]string{"train.mask_ratio = 0.5, 0.9", "model.arch=vit,crate"},
			[]string{"mask_ratio=0.5/arch=vit/seed=0", "mask_ratio=0.5/arch=crate/seed=0", "mask_ratio=0.9/arch=vit/seed=0", "mask_ratio=0.9/arch=crate/seed=0"}, ""},
		{"quoted strings and one value", head, []string{`model.arch="vit"`},
			[]string{"arch=vit/seed=0"}, ""},
		{"replaces the file's axis in place, keeping its variants", twoVariants + stepAxis + "[[ablation]]\nkey = \"train.steps\"\nvalues = [100]\n",
			[]string{"model.step_size=0.2"},
			[]string{"CRATE-MAE/step_size=0.2/steps=100/seed=0", "CRATE-MAE/step_size=0.2/steps=100/seed=1", "MAE/steps=100/seed=0", "MAE/steps=100/seed=1"},
			`--sweep model.step_size replaces the file's ablation "model.step_size": values [0.2] instead of [0.05, 0.1]`},
		{"replacement keeps a file axis's name", head + "[[ablation]]\nkey = \"train.mask_ratio\"\nname = \"mr\"\nvalues = [0.5]\n",
			[]string{"train.mask_ratio=0.6,0.7"},
			[]string{"mr=0.6/seed=0", "mr=0.7/seed=0"}, "replaces"},
		{"sampled on the command line", head + "seeds = [0]\n",
			[]string{"train.mask_ratio={ uniform = [0.5, 0.9], count = 4 }"},
			[]string{"mask_ratio=0.7226/seed=0", "mask_ratio=0.7778/seed=0", "mask_ratio=0.8424/seed=0", "mask_ratio=0.8767/seed=0"}, ""},
		{"a sweep on a key a variant sets", twoVariants,
			[]string{"model.arch=vit"},
			[]string{"CRATE-MAE/arch=vit/seed=0", "CRATE-MAE/arch=vit/seed=1", "MAE/arch=vit/seed=0", "MAE/arch=vit/seed=1"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, runs := parseOpt(t, tt.text, Options{Sweeps: tt.sweeps})
			if got := runNames(runs); !slices.Equal(got, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			notes := strings.Join(x.Notes, "\n")
			if (tt.note == "") != (notes == "") || !strings.Contains(notes, tt.note) {
				t.Errorf("notes %q, want %q", notes, tt.note)
			}
		})
	}
	// the values have the key's type and reach the spec
	_, runs := parseOpt(t, head, Options{Sweeps: []string{"train.steps=60,70"}, Sets: []string{"train.batch_size=4"}})
	if runs[1].Spec.Train.Steps != 70 || runs[1].Spec.Train.BatchSize != 4 || !slices.Equal(runs[1].Axes, []AxisValue{{"train.steps", int64(70)}}) {
		t.Errorf("run %s: steps %d, batch %d, axes %#v", runs[1].Name, runs[1].Spec.Train.Steps, runs[1].Spec.Train.BatchSize, runs[1].Axes)
	}
	// the same values as the file's give the same runs, hashes included
	_, fromFile := parse(t, head+"[[ablation]]\nkey = \"train.steps\"\nvalues = [60, 70]\n[train]\nbatch_size = 4\n")
	for i := range runs {
		a, _ := runs[i].Hash()
		b, _ := fromFile[i].Hash()
		if a != b {
			t.Errorf("run %s: swept and written differ:\n%s\n%s", runs[i].Name, must(runs[i].JSON()), must(fromFile[i].JSON()))
		}
	}
}

func must(b []byte, err error) string {
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// Sampled values are pinned: a change of generator or arithmetic fails
// here.
func TestSample(t *testing.T) {
	// the raw generator: math/rand/v2's PCG, seeded (seed, FNV-1a of the key)
	if h := fnv64a("train.blr"); h != 0xd89a3e77f62fe9bb {
		t.Errorf("FNV-1a of train.blr = %#x", h)
	}
	src := rand.NewPCG(0, fnv64a("train.blr"))
	if a, b := src.Uint64(), src.Uint64(); a != 0xfa28929fcd50de7f || b != 0xfa121c47d0eb3957 {
		t.Errorf("PCG(0, fnv(train.blr)) = %#x, %#x", a, b)
	}
	tests := []struct {
		name, key, values string
		seeds             string
		want              []any
	}{
		{"log_uniform, the first seed", "train.blr", "{ log_uniform = [1e-4, 1e-2], count = 8 }", "[0, 1]",
			[]any{0.0002165, 0.0004059, 0.0004492, 0.001226, 0.001523, 0.001696, 0.008988, 0.009003}},
		{"uniform", "train.mask_ratio", "{ uniform = [0.5, 0.9], count = 4 }", "[0]",
			[]any{0.7226, 0.7778, 0.8424, 0.8767}},
		{"int_uniform, both bounds included", "model.depth", "{ int_uniform = [1, 8], count = 3 }", "[0]",
			[]any{int64(1), int64(7), int64(8)}},
		{"int_uniform, every integer of the range", "model.depth", "{ int_uniform = [1, 4], count = 4 }", "[0]",
			[]any{int64(1), int64(2), int64(3), int64(4)}},
		{"the table's seed over the experiment's", "train.mask_ratio", "{ uniform = [0.5, 0.9], count = 4, seed = 7 }", "[0]",
			nil}, // compared with seeds = [7] below
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := head + "seeds = " + tt.seeds + "\n[[ablation]]\nkey = \"" + tt.key + "\"\nvalues = " + tt.values + "\n"
			_, runs := parse(t, text)
			var got []any
			for _, r := range runs {
				if r.Spec.Seed == runs[0].Spec.Seed {
					got = append(got, r.Axes[0].Value)
				}
			}
			want := tt.want
			if want == nil {
				_, runs7 := parse(t, head+"seeds = [7]\n[[ablation]]\nkey = \""+tt.key+"\"\nvalues = { uniform = [0.5, 0.9], count = 4 }\n")
				for _, r := range runs7 {
					want = append(want, r.Axes[0].Value)
				}
				if fmt.Sprint(want) == "[0.7226 0.7778 0.8424 0.8767]" {
					t.Error("seed 7 draws seed 0's values")
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("drew %v, want %v", got, want)
			}
		})
	}
	// rounding to SampleDigits significant digits
	for _, c := range [][2]float64{{0.000123456, 0.0001235}, {12345.6, 12350}, {0.5, 0.5}, {1.00004, 1}} {
		if got := round(c[0]); got != c[1] {
			t.Errorf("round(%v) = %v, want %v", c[0], got, c[1])
		}
	}
	// duplicates after rounding are drawn again: 10 distinct values of
	// a range that holds 11 at 4 digits (1.000 to 1.010)
	_, runs := parse(t, head+"[[ablation]]\nkey = \"train.blr\"\nvalues = { uniform = [1, 1.01], count = 10 }\n")
	if len(runs) != 10 {
		t.Errorf("%d runs, want 10 distinct values", len(runs))
	}
}

// Bad --sweeps, axis variants, sampled tables and references are refused,
// naming the axis or sweep.
func TestSweepInvalid(t *testing.T) {
	const ratio = "[[ablation]]\nkey = \"train.mask_ratio\"\nvalues = [0.5]\n"
	const bundle = "[[ablation]]\nname = \"heads\"\nlabels = [\"2\"]\nvalues = [{ \"model.num_heads\" = 2, \"model.decoder_num_heads\" = 2 }]\n"
	sampled := func(key, values string) string {
		return head + "[[ablation]]\nkey = \"" + key + "\"\nvalues = " + values + "\n"
	}
	tests := []struct {
		name, text string
		opt        Options
		want       string
	}{
		{"unknown variant", twoVariants + "[[ablation]]\nkey = \"model.step_size\"\nvariants = [\"CRATE\"]\nvalues = [0.1]\n", Options{},
			`ablation "model.step_size": variants: "CRATE" is no variant of the file (variants: "CRATE-MAE", "MAE")`},
		{"variants without variants", head + "[[ablation]]\nkey = \"model.step_size\"\nvariants = [\"MAE\"]\nvalues = [0.1]\n", Options{},
			`ablation "model.step_size": variants: "MAE": the file has no [[variant]] to name`},
		{"empty variants", twoVariants + "[[ablation]]\nkey = \"model.step_size\"\nvariants = []\nvalues = [0.1]\n", Options{},
			`ablation "model.step_size": variants = []: want a non-empty array of variant names`},
		{"variant twice", twoVariants + "[[ablation]]\nkey = \"model.step_size\"\nvariants = [\"MAE\", \"MAE\"]\nvalues = [0.1]\n", Options{},
			`ablation "model.step_size": variants = ["MAE", "MAE"]: "MAE" is given twice`},
		{"variants not strings", twoVariants + "[[ablation]]\nkey = \"model.step_size\"\nvariants = \"MAE\"\nvalues = [0.1]\n", Options{},
			`ablation "model.step_size": variants = "MAE": want a non-empty array`},

		{"sweep without =", head, Options{Sweeps: []string{"train.mask_ratio"}}, "--sweep train.mask_ratio: want KEY=V1,V2,..."},
		{"sweep of an unknown key", head, Options{Sweeps: []string{"train.mask=0.5"}}, "--sweep train.mask=0.5: train.mask: unknown key (known train keys:"},
		{"sweep of an unknown section", head, Options{Sweeps: []string{"trian.steps=1"}}, `--sweep trian.steps=1: trian.steps: unknown section "trian"`},
		{"sweep value of the wrong type", head, Options{Sweeps: []string{"train.steps=5,x"}}, `--sweep train.steps=x: train.steps: "x" is a string, want an integer`},
		{"sweep value twice", head, Options{Sweeps: []string{"train.steps=5,5"}}, "--sweep train.steps=5,5: value 5 is given twice"},
		{"sweep empty value", head, Options{Sweeps: []string{"train.steps=5,"}}, "--sweep train.steps=5,: an empty value"},
		{"sweep twice", head, Options{Sweeps: []string{"train.steps=5", "train.steps=6"}}, "--sweep train.steps=6: train.steps is swept twice on the command line"},
		{"sweep of a bundle's key", head + bundle, Options{Sweeps: []string{"model.num_heads=1,2"}},
			`--sweep model.num_heads: model.num_heads is also set by ablation "heads"; a key may belong to one axis only`},
		{"sweep named as another axis", head + "[[ablation]]\nkey = \"eval.images\"\nname = \"steps\"\nvalues = [8]\n", Options{Sweeps: []string{"train.steps=5"}},
			`--sweep train.steps: name "steps" is also the name of ablation "eval.images"`},
		{"set of a swept key", head, Options{Sweeps: []string{"train.steps=5"}, Sets: []string{"train.steps=6"}},
			"--set train.steps=6: train.steps is set by --sweep train.steps"},
		{"set of a key a sweep replaced", head + ratio, Options{Sweeps: []string{"train.mask_ratio=0.6"}, Sets: []string{"train.mask_ratio=0.7"}},
			"--set train.mask_ratio=0.7: train.mask_ratio is set by --sweep train.mask_ratio"},
		{"sweep making an invalid run", head, Options{Sweeps: []string{"model.num_heads=4,5"}},
			`run "num_heads=5/seed=0": --sweep model.num_heads=5: model.num_heads: 5 heads do not divide`},
		{"sweep of a bad table", head, Options{Sweeps: []string{"train.blr={ uniform = [1, 2] }"}}, "--sweep train.blr={ uniform = [1, 2] }: values: count: required"},

		{"count < 1", sampled("train.blr", "{ uniform = [1, 2], count = 0 }"), Options{}, `ablation "train.blr": values: count = 0: want an integer from 1 to 1000`},
		{"count too large", sampled("train.blr", "{ uniform = [1, 2], count = 1001 }"), Options{}, `count = 1001: want an integer from 1 to 1000`},
		{"count not an integer", sampled("train.blr", "{ uniform = [1, 2], count = 2.5 }"), Options{}, `ablation "train.blr": values: count = 2.5: 2.5 is a float, want an integer`},
		{"low >= high", sampled("train.blr", "{ uniform = [2, 1], count = 2 }"), Options{}, `ablation "train.blr": values: uniform = [2, 1]: low 2 is not below high 1`},
		{"low == high", sampled("train.blr", "{ log_uniform = [1e-3, 1e-3], count = 2 }"), Options{}, `ablation "train.blr": values: log_uniform = [0.001, 0.001]: low 0.001 is not below high 0.001`},
		{"log of zero", sampled("train.blr", "{ log_uniform = [0, 1], count = 2 }"), Options{}, `ablation "train.blr": values: log_uniform = [0, 1]: the bounds must be > 0`},
		{"log of a negative", sampled("train.blr", "{ log_uniform = [-1, 1], count = 2 }"), Options{}, `the bounds must be > 0`},
		{"unknown key in the table", sampled("train.blr", "{ uniform = [1, 2], count = 2, n = 3 }"), Options{}, `ablation "train.blr": values: n: unknown key (known: count, int_uniform, log_uniform, seed, uniform)`},
		{"no distribution", sampled("train.blr", "{ count = 2 }"), Options{}, `ablation "train.blr": values: { "count" = 2 }: want a distribution`},
		{"two distributions", sampled("train.blr", "{ uniform = [1, 2], log_uniform = [1, 2], count = 2 }"), Options{}, `ablation "train.blr": values: both`},
		{"one bound", sampled("train.blr", "{ uniform = [1], count = 2 }"), Options{}, `ablation "train.blr": values: uniform = [1]: want [LOW, HIGH], two numbers`},
		{"string bound", sampled("train.blr", "{ uniform = [1, \"2\"], count = 2 }"), Options{}, `uniform = [1, "2"]: "2" is not a number`},
		{"float sampling of an integer key", sampled("model.depth", "{ uniform = [1, 4], count = 2 }"), Options{}, `ablation "model.depth": values: uniform draws floats, and model.depth is an integer key: use int_uniform`},
		{"integer sampling of a float key", sampled("train.blr", "{ int_uniform = [1, 4], count = 2 }"), Options{}, `int_uniform draws integers, and train.blr is a float key: use uniform or log_uniform`},
		{"sampling a string key", sampled("model.arch", "{ uniform = [1, 4], count = 2 }"), Options{}, `ablation "model.arch": values: model.arch takes a string; only integer and float keys can be sampled`},
		{"int_uniform float bounds", sampled("model.depth", "{ int_uniform = [1, 4.5], count = 2 }"), Options{}, `int_uniform = [1, 4.5]: want [LOW, HIGH], two integers`},
		{"int_uniform count over the range", sampled("model.depth", "{ int_uniform = [1, 4], count = 5 }"), Options{}, `ablation "model.depth": values: count = 5: int_uniform = [1, 4] holds only 4 integers`},
		{"too few distinct values at 4 digits", sampled("train.blr", "{ uniform = [1.0, 1.0001], count = 5 }"), Options{}, `ablation "train.blr": values: no 5 distinct values in 500 draws at 4 significant digits`},
		{"negative seed", sampled("train.blr", "{ uniform = [1, 2], count = 2, seed = -1 }"), Options{}, `seed = -1: want an integer >= 0`},
		{"labels with sampling", head + "[[ablation]]\nkey = \"train.blr\"\nlabels = [\"a\"]\nvalues = { uniform = [1, 2], count = 1 }\n", Options{}, `ablation "train.blr": labels: not with sampled values`},
		{"sampling a bundle", head + "[[ablation]]\nname = \"b\"\nlabels = [\"a\"]\nvalues = { uniform = [1, 2], count = 1 }\n", Options{}, `ablation "b": values: a bundle's values are an array of tables`},
		{"sampled value making an invalid run", sampled("train.mask_ratio", "{ uniform = [1, 2], count = 1 }"), Options{}, `ablation "train.mask_ratio" = 1.`},

		{"reference without experiment", head + "[report]\nreference = { variant = \"MAE\" }\n", Options{}, "[report] reference: experiment: required"},
		{"reference unknown key", head + "[report]\nreference = { experiment = \"m\", varient = \"MAE\" }\n", Options{}, "[report] reference: varient: unknown key (known: experiment, variant, axes)"},
		{"report unknown key", head + "[report]\nref = 1\n", Options{}, "[report]: ref: unknown key (known: reference)"},
		{"reference bad name", head + "[report]\nreference = { experiment = \"a/b\" }\n", Options{}, "[report] reference: experiment:"},
		{"reference array value", head + "[report]\nreference = { experiment = \"m\", axes = { x = [1] } }\n", Options{}, `[report] reference: axes: "x" = [1]: want a value as run names show it`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParseWith([]byte(tt.text), "x.toml", tt.opt)
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "x.toml") {
				t.Errorf("got %v\nwant x.toml: ... %s", err, tt.want)
			}
		})
	}
}

func TestReference(t *testing.T) {
	x, _ := parse(t, head)
	if x.Reference != nil {
		t.Errorf("no [report], reference %v", x.Reference)
	}
	x, _ = parse(t, head+`[report]
reference = { experiment = "mask_ratio", variant = "MAE", axes = { train.mask_ratio = 0.75, "heads" = "2" } }
`)
	want := &Reference{Experiment: "mask_ratio", Variant: "MAE", Axes: []AxisValue{{"heads", "2"}, {"train.mask_ratio", 0.75}}}
	if fmt.Sprint(x.Reference) != fmt.Sprint(want) || x.Reference.String() != "mask_ratio, variant MAE, heads=2, train.mask_ratio=0.75" {
		t.Fatalf("reference %#v", x.Reference)
	}
	run := Run{Experiment: "mask_ratio", Variant: "MAE", Axes: []AxisValue{{"train.mask_ratio", 0.75}, {"heads", "2"}}}
	for _, c := range []struct {
		change func(r *Run)
		want   bool
	}{
		{func(r *Run) {}, true},
		{func(r *Run) { r.Experiment = "ista_step" }, false},
		{func(r *Run) { r.Variant = "CRATE-MAE" }, false},
		{func(r *Run) { r.Axes = []AxisValue{{"train.mask_ratio", 0.5}, {"heads", "2"}} }, false},
		{func(r *Run) { r.Axes = []AxisValue{{"train.mask_ratio", 0.75}} }, false},
		{func(r *Run) { r.Axes = append(r.Axes, AxisValue{"model.depth", 2.0}) }, true},
	} {
		r := run
		r.Axes = slices.Clone(run.Axes)
		c.change(&r)
		if got := x.Reference.Matches(r); got != c.want {
			t.Errorf("Matches(%+v) = %v, want %v", r, got, c.want)
		}
	}
	// axis values read back from a run's JSON (float64 for integers)
	ref := Reference{Experiment: "h", Axes: []AxisValue{{"model.depth", int64(2)}}}
	if !ref.Matches(Run{Experiment: "h", Variant: "any", Axes: []AxisValue{{"model.depth", 2.0}}}) {
		t.Error("an integer 2 of the file does not match 2.0 of JSON")
	}
}
