package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"harness/model"
	"harness/parity"
	"harness/runner"
	"harness/weights"
)

// harness runs the command line in-process.
func harness(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestParams(t *testing.T) {
	code, out, _ := harness("params", "mae_crate_base", "mae_vit_base", "--json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var rows []struct {
		Preset           string
		Total, Trainable int64
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int64{"mae_crate_base": {44638464, 44335872}, "mae_vit_base": {143790336, 143487744}}
	for _, r := range rows {
		if w := want[r.Preset]; r.Total != w[0] || r.Trainable != w[1] {
			t.Errorf("%s: %d / %d, want %d / %d", r.Preset, r.Total, r.Trainable, w[0], w[1])
		}
	}
	if code, out, _ := harness("params"); code != 0 || !strings.Contains(out, "44,638,464") || !strings.Contains(out, "mae_vit_huge") {
		t.Errorf("params lists no presets: exit %d\n%s", code, out)
	}
	// overrides apply on top of the preset: at img 32, patch 4 the position
	// tables shrink to 65 rows (43,329,072 by the PyTorch reference)
	code, out, _ = harness("params", "mae_crate_base", "--set", "model.img_size=32", "--set", "model.patch_size=4", "--json")
	if code != 0 || !strings.Contains(out, `"total": 43329072`) {
		t.Errorf("params with --set: exit %d\n%s", code, out)
	}
}

func TestParamsRefusesBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"params", "mae_crate_gigantic"}, "unknown preset"},
		{[]string{"params", "--set", "model.num_heads=5"}, "model.num_heads"},
		{[]string{"params", "--set", "model.embed_size=5"}, "model.embed_size: unknown key"},
		{[]string{"params", "--set", "model.depth=two"}, "model.depth: \"two\" is a string, want an integer"},
		{[]string{"params", "--set", "train.steps=5"}, "only model.* keys"},
		{[]string{"params", "--set", "model.arch=resnet"}, "model.arch"},
		{[]string{"params", "--set", "model.depth", "3"}, "--set takes KEY=VALUE, got model.depth"},
		{[]string{"bench", "--set", "train.steps", "3"}, "--set takes KEY=VALUE, got train.steps"},
	}
	for _, tt := range tests {
		code, _, stderr := harness(tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}

func TestParity(t *testing.T) {
	cases, _ := filepath.Glob("../../parity/testdata/*.safetensors")
	code, out, stderr := harness(append([]string{"parity", "--json"}, cases...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(cases) {
		t.Fatalf("%d lines for %d cases", len(lines), len(cases))
	}
	for _, l := range lines {
		var r map[string]any
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"case", "ok", "loss", "expected_loss", "max_pred_err", "max_grad_err", "worst_grad"} {
			if _, ok := r[key]; !ok {
				t.Errorf("no %s in %s", key, l)
			}
		}
	}
	if code, _, stderr := harness("parity", "testdata/missing.safetensors"); code != 2 || !strings.Contains(stderr, "missing.safetensors") {
		t.Errorf("missing case: exit %d, %q", code, stderr)
	}
}

// A case whose expected loss is off must fail with exit status 1.
func TestParityFailureExits1(t *testing.T) {
	b, err := os.ReadFile("../../parity/testdata/crate_tiny.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	// crate_tiny's expected.loss is an F64 [1]; find it through the header
	i := bytes.Index(b, []byte(`"expected.loss"`))
	if i < 0 {
		t.Fatal("no expected.loss in the header")
	}
	var entry struct {
		Offsets [2]int `json:"data_offsets"`
	}
	rest := b[i+len(`"expected.loss":`):]
	if err := json.NewDecoder(bytes.NewReader(rest)).Decode(&entry); err != nil {
		t.Fatal(err)
	}
	headerLen := int(b[0]) | int(b[1])<<8 | int(b[2])<<16 | int(b[3])<<24
	at := 8 + headerLen + entry.Offsets[0]
	b[at+7] ^= 0x01 // flip a bit of the exponent: the loss doubles or halves
	path := filepath.Join(t.TempDir(), "off.safetensors")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := harness("parity", path)
	if code != 1 || !strings.Contains(out, "FAIL") {
		t.Errorf("exit %d, output %q; want 1 and a FAIL line", code, out)
	}
}

// convert must give the released weights of crate_tiny exactly: the same
// names in the same order, shapes and bytes.
func TestConvert(t *testing.T) {
	out := filepath.Join(t.TempDir(), "crate_tiny.safetensors")
	if code, _, stderr := harness("convert", "../../weights/testdata/crate_tiny.pth", out); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got, err := weights.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := weights.Read("../../parity/testdata/crate_tiny.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range want.Tensors {
		if !strings.HasPrefix(w.Name, "input.") && !strings.HasPrefix(w.Name, "expected.") {
			names = append(names, w.Name)
		}
	}
	if len(got.Tensors) != len(names) {
		t.Fatalf("%d tensors, want %d", len(got.Tensors), len(names))
	}
	for i, g := range got.Tensors {
		w, _ := want.Get(names[i])
		if g.Name != names[i] || g.DType != w.DType || !slices.Equal(g.Shape, w.Shape) || !bytes.Equal(g.Data, w.Data) {
			t.Errorf("tensor %d: %s %s %v differs from %s %s %v", i, g.Name, g.DType, g.Shape, w.Name, w.DType, w.Shape)
		}
	}
	// the converted weights load into a model built from the case's metadata
	c, err := parity.Read("../../parity/testdata/crate_tiny.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(c.Config, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range got.Tensors {
		v, _ := g.Float32()
		if err := m.SetParam(g.Name, g.Shape, v); err != nil {
			t.Error(err)
		}
	}
	for _, args := range [][]string{{"convert", "nope.pth", out}, {"convert", "../../parity/testdata/crate_tiny.safetensors", out}} {
		if code, _, stderr := harness(args...); code != 2 || !strings.Contains(stderr, args[1]) {
			t.Errorf("%v: exit %d, %q; want 2 naming the input", args, code, stderr)
		}
	}
}

func TestBench(t *testing.T) {
	code, out, stderr := harness("bench", "--steps", "2", "--warmup", "0", "--json",
		"--set", "model.depth=1", "--set", "model.decoder_depth=1", "--set", "train.batch_size=4", "--set", "model.arch=vit")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r struct {
		ImagesPerSecond float64 `json:"images_per_second"`
		Arch            string  `json:"arch"`
		Batch           int     `json:"batch"`
		ParamsTotal     int64   `json:"params_total"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Arch != "vit" || r.Batch != 4 || !(r.ImagesPerSecond > 0) || r.ParamsTotal == 0 {
		t.Errorf("bench printed %+v", r)
	}
	if code, _, stderr := harness("bench", "--set", "train.batch_size=0"); code != 2 || !strings.Contains(stderr, "train.batch_size") {
		t.Errorf("batch 0: exit %d, %q", code, stderr)
	}
}

// The exit status of an interrupted command is the runner's for SIGINT.
func TestExitStatuses(t *testing.T) {
	if got := (&runner.Interrupt{Signal: syscall.SIGINT}).ExitCode(); got != exitInterrupted {
		t.Errorf("SIGINT exits %d, exitInterrupted is %d", got, exitInterrupted)
	}
	if exitOK != 0 || exitFailed != 1 || exitInvalid != 2 {
		t.Errorf("exit statuses %d %d %d, documented as 0 1 2", exitOK, exitFailed, exitInvalid)
	}
}
