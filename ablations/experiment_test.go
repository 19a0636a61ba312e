package ablations

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"harness/model"
	"harness/training"
)

// parse parses text as the experiment file x.toml.
func parse(t *testing.T, text string, overrides ...string) (*Experiment, []Run) {
	t.Helper()
	x, runs, err := Parse([]byte(text), "x.toml", overrides)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, text)
	}
	return x, runs
}

func runNames(runs []Run) []string {
	var ns []string
	for _, r := range runs {
		ns = append(ns, r.Name)
	}
	return ns
}

const head = "[experiment]\nname = \"x\"\n"

func TestExpand(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"nothing to vary", head, []string{"seed=0"}},
		{"variants, axes first outermost, seeds innermost", head + `
seeds = [0, 1]
[[variant]]
name = "B"
[[variant]]
name = "A"
[[ablation]]
key = "train.mask_ratio"
values = [0.5, 0.9]
[[ablation]]
key = "model.depth"
values = [2, 1]
`, []string{
			"B/mask_ratio=0.5/depth=2/seed=0", "B/mask_ratio=0.5/depth=2/seed=1",
			"B/mask_ratio=0.5/depth=1/seed=0", "B/mask_ratio=0.5/depth=1/seed=1",
			"B/mask_ratio=0.9/depth=2/seed=0", "B/mask_ratio=0.9/depth=2/seed=1",
			"B/mask_ratio=0.9/depth=1/seed=0", "B/mask_ratio=0.9/depth=1/seed=1",
			"A/mask_ratio=0.5/depth=2/seed=0", "A/mask_ratio=0.5/depth=2/seed=1",
			"A/mask_ratio=0.5/depth=1/seed=0", "A/mask_ratio=0.5/depth=1/seed=1",
			"A/mask_ratio=0.9/depth=2/seed=0", "A/mask_ratio=0.9/depth=2/seed=1",
			"A/mask_ratio=0.9/depth=1/seed=0", "A/mask_ratio=0.9/depth=1/seed=1",
		}},
		{"no variants, seeds in file order", head + `
seeds = [3, 1]
[[ablation]]
key = "model.arch"
values = ["vit", "crate"]
`, []string{"arch=vit/seed=3", "arch=vit/seed=1", "arch=crate/seed=3", "arch=crate/seed=1"}},
		{"variants as an inline array", "variant = [{ name = \"A\" }, { name = \"B\" }]\n" + head,
			[]string{"A/seed=0", "B/seed=0"}},
		{"variants only", head + `
[[variant]]
name = "CRATE-MAE"
[[variant]]
name = "MAE"
`, []string{"CRATE-MAE/seed=0", "MAE/seed=0"}},
		{"named axis with labels", head + `
[[ablation]]
key = "train.mask_ratio"
name = "ratio"
labels = ["half", "most"]
values = [0.5, 0.75]
`, []string{"ratio=half/seed=0", "ratio=most/seed=0"}},
		{"bundled axis", head + `
[[ablation]]
name = "heads"
labels = ["4", "8"]
values = [
  { "model.num_heads" = 4, "model.decoder_num_heads" = 4 },
  { model = { num_heads = 8, decoder_num_heads = 8 } },
]
`, []string{"heads=4/seed=0", "heads=8/seed=0"}},
		{"bundled axis as [[ablation.values]]", head + `
[[ablation]]
name = "size"
labels = ["S"]
[[ablation.values]]
"model.depth" = 1
`, []string{"size=S/seed=0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, runs := parse(t, tt.text)
			if got := runNames(runs); !slices.Equal(got, tt.want) {
				t.Errorf("runs\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestRunFields(t *testing.T) {
	x, runs := parse(t, head+`
description = "d"
seeds = [7]
[[variant]]
name = "MAE"
set = { "model.arch" = "vit" }
[[ablation]]
key = "train.mask_ratio"
values = [0.5]
[[ablation]]
name = "heads"
labels = ["h4"]
values = [{ "model.num_heads" = 4, "model.decoder_num_heads" = 4 }]
`)
	if x.Name != "x" || x.Description != "d" || !slices.Equal(x.Seeds, []uint64{7}) || x.Source != "x.toml" || !strings.HasPrefix(x.Text, head) {
		t.Errorf("experiment %+v", x)
	}
	r := runs[0]
	want := []AxisValue{{"train.mask_ratio", 0.5}, {"heads", "h4"}}
	if r.Experiment != "x" || r.Variant != "MAE" || r.Spec.Seed != 7 || !reflect.DeepEqual(r.Axes, want) {
		t.Errorf("run %+v", r)
	}
	if r.Spec.Model.Arch != "vit" || r.Spec.Train.MaskRatio != 0.5 || r.Spec.Model.NumHeads != 4 || r.Spec.Model.DecoderNumHeads != 4 {
		t.Errorf("spec %+v", r.Spec)
	}
}

// field reads the field of spec that a dotted key names.
func field(t *testing.T, spec training.Spec, key string) any {
	t.Helper()
	_, index, err := lookup(key)
	if err != nil {
		t.Fatal(err)
	}
	return reflect.ValueOf(spec).FieldByIndex(index).Interface()
}

func TestPrecedence(t *testing.T) {
	tiny, vit := model.Presets["mae_crate_tiny"], model.Presets["mae_vit_base"]
	tests := []struct {
		name      string
		text      string
		overrides []string
		want      []map[string]any // per run: dotted key -> value
	}{
		{"defaults", head, nil, []map[string]any{{
			"model.embed_dim": model.Presets[model.DefaultPreset].EmbedDim,
			"train.steps":     training.DefaultConfig().Steps,
			"data.dataset":    "mnist",
			"eval.knn":        true,
		}}},
		{"[model] keys over the preset", head + `
[model]
depth = 3
preset = "mae_vit_base"
`, nil, []map[string]any{{"model.arch": "vit", "model.embed_dim": vit.EmbedDim, "model.depth": 3}}},
		{"variant over tables", head + `
[model]
depth = 3
[train]
steps = 100
[[variant]]
name = "A"
set = { "model.depth" = 5 }
[[variant]]
name = "B"
`, nil, []map[string]any{
			{"model.depth": 5, "train.steps": 100},
			{"model.depth": 3, "train.steps": 100},
		}},
		{"ablation over variant", head + `
[[variant]]
name = "A"
set = { "train.mask_ratio" = 0.5, "train.blr" = 1 }
[[ablation]]
key = "train.mask_ratio"
values = [0.9]
`, nil, []map[string]any{{"train.mask_ratio": 0.9, "train.blr": 1.0}}},
		{"override over everything", head + `
[train]
steps = 100
[[variant]]
name = "A"
set = { "model.depth" = 5 }
[[ablation]]
key = "model.num_heads"
values = [4]
`, []string{"train.steps=60", "model.decoder_depth=1"}, []map[string]any{{"train.steps": 60, "model.depth": 5, "model.num_heads": 4, "model.decoder_depth": 1}}},
		{"a variant's preset under the file's keys", head + `
[model]
preset = "mae_crate_tiny"
depth = 3
[[variant]]
name = "MAE"
set = { "model.preset" = "mae_vit_base" }
[[variant]]
name = "CRATE-MAE"
`, nil, []map[string]any{
			{"model.arch": "vit", "model.embed_dim": vit.EmbedDim, "model.depth": 3, "model.decoder_depth": vit.DecoderDepth},
			{"model.arch": "crate", "model.embed_dim": tiny.EmbedDim, "model.depth": 3},
		}},
		{"preset as an ablation key", head + `
[model]
depth = 2
[[ablation]]
key = "model.preset"
values = ["mae_crate_tiny", "mae_vit_base"]
`, nil, []map[string]any{
			{"model.embed_dim": tiny.EmbedDim, "model.depth": 2, "model.arch": "crate"},
			{"model.embed_dim": vit.EmbedDim, "model.depth": 2, "model.arch": "vit"},
		}},
		{"nested and unquoted keys in a set", head + `
[[variant]]
name = "A"
set = { model.arch = "vit", train = { steps = 100 } }
`, nil, []map[string]any{{"model.arch": "vit", "train.steps": 100}}},
		{"preset by override, under a variant's keys", head + `
[[variant]]
name = "CRATE-MAE"
set = { "model.arch" = "crate" }
`, []string{"model.preset=mae_vit_base"}, []map[string]any{{"model.arch": "crate", "model.embed_dim": vit.EmbedDim}}},
		{"override values", head, []string{
			"model.arch=vit", `model.masking="visible"`, "train.blr=1", "train.min_lr=1e-6", "train.steps=1_000",
			"eval.knn=false", "data.seed=7", "data.mean=[0.5]", "data.std=[0.25]", "data.path=/tmp/x y",
		}, []map[string]any{{
			"model.arch": "vit", "model.masking": "visible", "train.blr": 1.0, "train.min_lr": 1e-6, "train.steps": 1000,
			"eval.knn": false, "data.seed": uint64(7), "data.mean": []float64{0.5}, "data.std": []float64{0.25}, "data.path": "/tmp/x y",
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, runs := parse(t, tt.text, tt.overrides...)
			if len(runs) != len(tt.want) {
				t.Fatalf("%d runs, want %d", len(runs), len(tt.want))
			}
			for i, want := range tt.want {
				for key, v := range want {
					if got := field(t, runs[i].Spec, key); !reflect.DeepEqual(got, v) {
						t.Errorf("run %s: %s = %#v, want %#v", runs[i].Name, key, got, v)
					}
				}
			}
		})
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name      string
		text      string
		overrides []string
		want      string // in the error, after "x.toml"
	}{
		{"syntax", head + "[train]\nsteps = = 3\n", nil, "x.toml:4:9: "},
		{"no name", "[experiment]\ndescription = \"d\"\n", nil, "[experiment]: name: required"},
		{"no experiment", "[train]\nsteps = 3\n", nil, "[experiment]: name: required"},
		{"unknown table", head + "[trian]\nsteps = 3\n", nil, "trian: unknown table (known: experiment, model"},
		{"unknown experiment key", head + "seed = 1\n", nil, "[experiment]: seed: unknown key (known: name, description, seeds)"},
		{"negative seed", head + "seeds = [1, -1]\n", nil, "[experiment] seeds = [1, -1]: -1 is not an integer >= 0"},
		{"no seeds", head + "seeds = []\n", nil, "[experiment] seeds = []: want a non-empty array"},
		{"seed twice", head + "seeds = [1, 1]\n", nil, "seed 1 is given twice"},
		{"unknown key", head + "[train]\nstpes = 3\n", nil, "[train] stpes = 3: train.stpes: unknown key (known train keys: batch_size, beta1"},
		{"unknown model key lists preset", head + "[model]\nwidth = 3\n", nil, "mlp_ratio, norm_pix_loss, num_heads, patch_size, preset, step_size"},
		{"string for an integer", head + "[train]\nsteps = \"ten\"\n", nil, `[train] steps = "ten": train.steps: "ten" is a string, want an integer`},
		{"float for an integer", head + "[train]\nsteps = 1.5\n", nil, "[train] steps = 1.5: train.steps: 1.5 is a float, want an integer"},
		{"boolean for a string", head + "[model]\narch = true\n", nil, "[model] arch = true: model.arch: true is a boolean, want a string"},
		{"string in an array", head + "[data]\nmean = [0.5, \"x\"]\n", nil, `data.mean: value 1: "x" is a string, want a number`},
		{"number for a name", head + "[[variant]]\nname = 3\n", nil, "variant 1 name = 3: 3 is an integer, want a string"},
		{"variant not a table", "variant = [1]\n" + head, nil, "variant 1: 1 is an integer, want a table"},
		{"ablation not tables", "ablation = \"x\"\n" + head, nil, `ablation: "x" is a string, want [[ablation]] tables`},
		{"label not a string", head + "[[ablation]]\nkey = \"model.depth\"\nlabels = [1]\nvalues = [1]\n", nil, `ablation "model.depth": labels: 1 is not a string`},
		{"date for a number", head + "[train]\nblr = 2024-01-01\n", nil, "date-local is a date or time, want a number"},
		{"table for a section", "train = 5\n" + head, nil, "[train]: 5 is an integer, want a table"},
		{"unknown preset", head + "[model]\npreset = \"nope\"\n", nil, `[model] preset = "nope": model.preset: unknown preset "nope"`},
		{"unknown variant key", head + "[[variant]]\nname = \"A\"\nsets = {}\n", nil, "variant 1: sets: unknown key (known: name, set)"},
		{"variant without name", head + "[[variant]]\nset = {}\n", nil, "variant 1: name: required"},
		{"variant name twice", head + "[[variant]]\nname = \"A\"\n[[variant]]\nname = \"A\"\n", nil, `variant "A": name given to two variants`},
		{"unknown key in set", head + "[[variant]]\nname = \"MAE\"\nset = { \"model.nope\" = 1 }\n", nil, `variant "MAE": set "model.nope" = 1: model.nope: unknown key (known model keys:`},
		{"unknown section in set", head + "[[variant]]\nname = \"MAE\"\nset = { \"foo.bar\" = 1 }\n", nil, `set "foo.bar" = 1: foo.bar: unknown section "foo" (known: data, eval, model, train)`},
		{"undotted key in set", head + "[[variant]]\nname = \"MAE\"\nset = { steps = 1 }\n", nil, `set "steps" = 1: "steps": want a dotted key such as train.steps`},
		{"wrong type in set", head + "[[variant]]\nname = \"MAE\"\nset = { \"train.steps\" = 0.5 }\n", nil, `variant "MAE": set "train.steps" = 0.5: train.steps: 0.5 is a float, want an integer`},
		{"key twice in set", head + "[[variant]]\nname = \"MAE\"\nset = { \"model.depth\" = 1, model = { depth = 2 } }\n", nil, `variant "MAE": set: "model.depth" is given twice`},
		{"unknown ablation key", head + "[[ablation]]\nkey = \"train.nope\"\nvalues = [1]\n", nil, `ablation "train.nope" = 1: train.nope: unknown key`},
		{"wrong ablation value", head + "[[ablation]]\nkey = \"train.steps\"\nvalues = [10, \"x\"]\n", nil, `ablation "train.steps" = "x": train.steps: "x" is a string, want an integer`},
		{"no ablation values", head + "[[ablation]]\nkey = \"train.steps\"\nvalues = []\n", nil, `ablation "train.steps": values: want a non-empty array`},
		{"missing ablation values", head + "[[ablation]]\nkey = \"train.steps\"\n", nil, `ablation "train.steps": values: want a non-empty array`},
		{"ablation value twice", head + "[[ablation]]\nkey = \"train.blr\"\nvalues = [1, 1.0]\n", nil, `ablation "train.blr": value 1 is given twice`},
		{"ablation key twice", head + "[[ablation]]\nkey = \"train.steps\"\nvalues = [10]\n[[ablation]]\nkey = \"train.steps\"\nname = \"s\"\nvalues = [20]\n", nil,
			`ablation "train.steps": train.steps is also set by ablation "train.steps"; a key may belong to one axis only`},
		{"bundle key on another axis", head + "[[ablation]]\nkey = \"model.num_heads\"\nvalues = [4]\n[[ablation]]\nname = \"heads\"\nlabels = [\"4\"]\nvalues = [{ \"model.num_heads\" = 4 }]\n", nil,
			`ablation "heads": model.num_heads is also set by ablation "model.num_heads"`},
		{"axis names alike", head + "[[ablation]]\nkey = \"model.depth\"\nvalues = [4]\n[[ablation]]\nkey = \"model.num_heads\"\nname = \"depth\"\nvalues = [4]\n", nil,
			`ablation "model.num_heads": name "depth" is also the name of ablation "model.depth"`},
		{"axis named seed", head + "[[ablation]]\nkey = \"data.seed\"\nvalues = [1, 2]\n", nil, `ablation "data.seed": its name is seed`},
		{"ablation without key or name", head + "[[ablation]]\nvalues = [1]\n", nil, "ablation 1: want a key, or a name for a bundle of keys"},
		{"bundle without labels", head + "[[ablation]]\nname = \"h\"\nvalues = [{ \"model.depth\" = 1 }]\n", nil, `ablation "h": labels: required`},
		{"labels of another length", head + "[[ablation]]\nname = \"h\"\nlabels = [\"a\", \"b\"]\nvalues = [{ \"model.depth\" = 1 }]\n", nil, `ablation "h": labels: want an array of 1 strings`},
		{"bundle value not a table", head + "[[ablation]]\nname = \"h\"\nlabels = [\"a\"]\nvalues = [1]\n", nil, `ablation "h" value "a": set: 1 is an integer, want a table`},
		{"empty bundle value", head + "[[ablation]]\nname = \"h\"\nlabels = [\"a\"]\nvalues = [{}]\n", nil, `ablation "h" value "a": sets no key`},
		{"bundle with a wrong value", head + "[[ablation]]\nname = \"h\"\nlabels = [\"a\"]\nvalues = [{ \"model.depth\" = \"deep\" }]\n", nil,
			`ablation "h" value "a": set "model.depth" = "deep": model.depth: "deep" is a string, want an integer`},
		{"a variant's impossible shape", head + "[model]\npreset = \"mae_crate_tiny\"\n[[variant]]\nname = \"CRATE-MAE\"\n[[variant]]\nname = \"MAE\"\nset = { \"model.num_heads\" = 5 }\n", nil,
			`x.toml: run "MAE/seed=0": variant "MAE": set "model.num_heads" = 5: model.num_heads: 5 heads do not divide model.embed_dim 384`},
		{"one ablation value's impossible shape", head + "[model]\npreset = \"mae_crate_tiny\"\n[[ablation]]\nkey = \"model.num_heads\"\nvalues = [6, 5]\n", nil,
			`run "num_heads=5/seed=0": ablation "model.num_heads" = 5: model.num_heads: 5 heads do not divide model.embed_dim 384`},
		{"an impossible default", head + "[train]\nsteps = 10\n", nil, `run "seed=0": train.warmup_steps: 50 is longer than train.steps 10`},
		{"keeps no patch", head + "[model]\nimg_size = 32\n[train]\nmask_ratio = 0.999\n", nil, `run "seed=0": [train] mask_ratio = 0.999: train.mask_ratio: 0.999 keeps none of the 4 patches`},
		{"dataset without path", head + "[data]\ndataset = \"cifar10\"\n", nil, `run "seed=0": data.path: required for dataset "cifar10"`},
		{"name escapes --out", "[experiment]\nname = \"../../escaped\"\n", nil, `[experiment] name: "../../escaped": unsafe name: holds a path separator`},
		{"name ..", "[experiment]\nname = \"..\"\n", nil, `[experiment] name: "..": unsafe name`},
		{"name .", "[experiment]\nname = \".\"\n", nil, `[experiment] name: ".": unsafe name`},
		{"name a lone space", "[experiment]\nname = \" \"\n", nil, "begins or ends with a space"},
		{"name with a newline", "[experiment]\nname = \"a\\nb\"\n", nil, "control character U+000A"},
		{"name with NUL", "[experiment]\nname = \"a\\u0000b\"\n", nil, "control character U+0000"},
		{"name with ESC", "[experiment]\nname = \"a\\u001b[2Jb\"\n", nil, "control character U+001B"},
		{"name with a backslash", "[experiment]\nname = 'a\\b'\n", nil, "path separator"},
		{"name over 255 bytes", "[experiment]\nname = \"" + strings.Repeat("n", 256) + "\"\n", nil, "256 bytes, at most 255"},
		{"variant name with ESC", head + "[[variant]]\nname = \"M\\u001bAE\"\n", nil, `variant 1: name: "M\x1bAE": unsafe name`},
		{"ablation label with a newline", head + "[[ablation]]\nname = \"h\"\nlabels = [\"a\\nb\"]\nvalues = [{ \"model.depth\" = 1 }]\n", nil, `ablation "h": value "a\nb": "a\nb": unsafe name`},
		{"ablation value with a tab", head + "[[ablation]]\nkey = \"data.path\"\nvalues = [\"a\\tb\"]\n", nil, "control character U+0009"},
		{"override not KEY=VALUE", head, []string{"train.steps"}, `override "train.steps": want KEY=VALUE`},
		{"override unknown key", head, []string{"train.stpes=5"}, "--set train.stpes=5: train.stpes: unknown key (known train keys:"},
		{"override wrong type", head, []string{"train.steps=ten"}, `--set train.steps=ten: train.steps: "ten" is a string, want an integer`},
		{"override impossible", head, []string{"train.steps=0"}, `run "seed=0": --set train.steps=0: train.steps: must be >= 1, got 0`},
		{"override of an axis", head + "[[ablation]]\nkey = \"train.mask_ratio\"\nvalues = [0.5]\n", []string{"train.mask_ratio=0.9"},
			`--set train.mask_ratio=0.9: train.mask_ratio is set by ablation "train.mask_ratio"`},
		{"override of a variant's key", head + "[[variant]]\nname = \"MAE\"\nset = { \"model.arch\" = \"vit\" }\n", []string{"model.arch=crate"},
			`--set model.arch=crate: model.arch is set by variant "MAE"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, runs, err := Parse([]byte(tt.text), "x.toml", tt.overrides)
			if err == nil {
				t.Fatalf("no error; runs %q", runNames(runs))
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %q does not wrap ErrInvalid", err)
			}
			if !strings.HasPrefix(err.Error(), "x.toml") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error\n%s\nwant one from x.toml containing\n%s", err, tt.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.toml")
	if err := os.WriteFile(path, []byte(head), 0o644); err != nil {
		t.Fatal(err)
	}
	x, runs, err := Load(path, []string{"train.steps=60"})
	if err != nil {
		t.Fatal(err)
	}
	if x.Source != path || x.Text != head || len(runs) != 1 || runs[0].Spec.Train.Steps != 60 {
		t.Errorf("Load = %+v, %+v", x, runs)
	}
	_, _, err = Load(filepath.Join(t.TempDir(), "none.toml"), nil)
	if !errors.Is(err, ErrInvalid) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file: %v", err)
	}
	big := filepath.Join(t.TempDir(), "big.toml")
	if err := os.WriteFile(big, append([]byte(head), make([]byte, MaxFileSize)...), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ path, want string }{
		{"/dev/zero", "/dev/zero: not a regular file (a character device)"},
		{t.TempDir(), "not a regular file (a directory)"},
		{big, "big.toml: over 1048576 bytes (1024 KiB)"},
	} {
		_, _, err := Load(tt.path, nil)
		if !errors.Is(err, ErrInvalid) || err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%s): %v, want ErrInvalid and %q", tt.path, err, tt.want)
		}
	}
}

// A syntax error names its line and column, and shows the line with the
// one before and after; an unterminated table header is at its own line,
// not the next one where the decoder's line count has gone.
func TestSyntaxError(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"unterminated table header", "[experiment]\nname = \"x\"\n[model\nimg_size = 8\n",
			"x.toml:3:7: expected '.' or ']' to end table name, but got '\\n' instead\n" +
				"  2 | name = \"x\"\n" +
				"  3 | [model\n" +
				"    |       ^\n" +
				"  4 | img_size = 8"},
		{"header then blank lines", "[experiment]\nname = \"x\"\n[model\n\n\nimg_size = 8\n",
			"x.toml:3:7: expected '.' or ']' to end table name"},
		{"first line", "a = \n[b]\n",
			"x.toml:1:5: expected value but found '\\n' instead\n" +
				"  1 | a = \n" +
				"    |     ^\n" +
				"  2 | [b]"},
		{"last line without newline", "[experiment]\nname = \"x\"\nsteps = = 3",
			"x.toml:3:9: expected value but found '=' instead\n" +
				"  2 | name = \"x\"\n" +
				"  3 | steps = = 3\n" +
				"    |         ^"},
		{"control characters shown harmless", "[experiment]\nname = \"x\x1b[2J\"\n", "name = \"x\uFFFD[2J\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Parse([]byte(tt.text), "x.toml", nil)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error\n%v\nwant ErrInvalid and\n%s", err, tt.want)
			}
		})
	}
}

func TestHash(t *testing.T) {
	text := head + `
seeds = [0, 1]
[[variant]]
name = "CRATE-MAE"
set = { "model.arch" = "crate" }
[[variant]]
name = "MAE"
set = { "model.arch" = "vit" }
[[ablation]]
key = "train.mask_ratio"
values = [0.5, 0.75]
`
	hashes := func(text string, overrides ...string) map[string]string {
		_, runs := parse(t, text, overrides...)
		m := map[string]string{}
		for _, r := range runs {
			h, err := r.Hash()
			if err != nil {
				t.Fatal(err)
			}
			m[r.Name] = h
		}
		return m
	}
	a, b := hashes(text), hashes(text)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("hashes of the same file differ:\n%v\n%v", a, b)
	}
	seen := map[string]bool{}
	for _, h := range a {
		seen[h] = true
	}
	if len(seen) != len(a) || len(a) != 8 {
		t.Errorf("%d runs, %d distinct hashes", len(a), len(seen))
	}

	// Another value on an axis makes new runs and keeps the others.
	more := hashes(strings.Replace(text, "[0.5, 0.75]", "[0.5, 0.75, 0.9]", 1))
	for name, h := range a {
		if more[name] != h {
			t.Errorf("%s: hash changed when a value was added", name)
		}
	}
	// Any change of configuration changes every hash it touches.
	for _, changed := range []map[string]string{
		hashes(text + "[train]\nsteps = 500\n"),
		hashes(text, "eval.knn=false"),
		hashes(strings.Replace(text, `name = "x"`, `name = "y"`, 1)),
	} {
		for name, h := range a {
			if changed[name] == h {
				t.Errorf("%s: hash kept after a change", name)
			}
		}
	}
}

func TestParams(t *testing.T) {
	_, runs := parse(t, head+"[model]\npreset = \"mae_vit_base\"\n")
	got, err := runs[0].Params()
	want, _ := model.CountParams(model.Presets["mae_vit_base"])
	if err != nil || got != want {
		t.Errorf("Params = %+v, %v; want %+v", got, err, want)
	}
}

func TestShippedExperiments(t *testing.T) {
	paths, err := filepath.Glob("../experiments/*.toml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no experiment files: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			x, runs, err := Load(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if x.Name+".toml" != filepath.Base(path) {
				t.Errorf("experiment %q in file %s", x.Name, path)
			}
			hashes := map[string]bool{}
			for _, r := range runs {
				h, err := r.Hash()
				if err != nil {
					t.Fatal(err)
				}
				hashes[h] = true
				if _, err := r.Params(); err != nil {
					t.Errorf("%s: %v", r.Name, err)
				}
			}
			if len(hashes) != len(runs) {
				t.Errorf("%d runs, %d distinct hashes", len(runs), len(hashes))
			}
			if err := CheckData(runs); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestCheckData(t *testing.T) {
	_, runs := parse(t, head+`
[model]
img_size = 16
patch_size = 4
in_chans = 1
[data]
dataset = "synthetic"
train_size = 64
test_size = 32
[[ablation]]
key = "data.path"
values = ["", "/nonexistent/mnist"]
`, "data.dataset=mnist")
	err := CheckData(runs)
	want := `experiment "x": run "path=/nonexistent/mnist/seed=0": dataset mnist at "/nonexistent/mnist": loading /nonexistent/mnist`
	if !errors.Is(err, ErrInvalid) || err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("CheckData: %v\nwant an error beginning %s", err, want)
	}

	_, runs = parse(t, head+`
[model]
img_size = 16
patch_size = 4
in_chans = 3
[data]
dataset = "synthetic"
train_size = 64
test_size = 32
`)
	if err := CheckData(runs); err != nil {
		t.Errorf("CheckData of synthetic data: %v", err)
	}

	// a batch larger than the train split is refused before any run,
	// naming the key, for the run of the axis that sets it
	_, runs = parse(t, head+`
[model]
img_size = 16
patch_size = 4
[data]
dataset = "synthetic"
train_size = 64
test_size = 32
[[ablation]]
key = "train.batch_size"
values = [64, 65]
`)
	err = CheckData(runs)
	want = `experiment "x": run "batch_size=65/seed=0": dataset synthetic: train.batch_size: 65 exceeds the 64 images of the train split`
	if !errors.Is(err, ErrInvalid) || err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("CheckData of a batch over the split: %v\nwant an error beginning %s", err, want)
	}

	// an eval size that the file or an override gives is refused over its
	// split; by default (images 256, probe_train 2000, probe_test 1000) it
	// takes the whole split, as above
	const small = head + `
[model]
img_size = 16
patch_size = 4
[data]
dataset = "synthetic"
train_size = 64
test_size = 32
[train]
batch_size = 8
`
	for _, tt := range []struct{ set, want string }{
		{"eval.images=33", "eval.images: 33 exceeds the 32 images of the test split (data.test_size)"},
		{"eval.probe_train=65", "eval.probe_train: 65 exceeds the 64 images of the train split (data.train_size)"},
		{"eval.probe_test=33", "eval.probe_test: 33 exceeds the 32 images of the test split"},
	} {
		_, runs = parse(t, small, tt.set)
		if err := CheckData(runs); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CheckData with %s: %v, want %q", tt.set, err, tt.want)
		}
	}
	_, runs = parse(t, small, "eval.images=32", "eval.probe_train=64", "eval.probe_test=32")
	if err := CheckData(runs); err != nil {
		t.Errorf("CheckData with eval sizes equal to the splits: %v", err)
	}
}
