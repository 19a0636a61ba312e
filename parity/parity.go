// Package parity checks the models against parity cases: files that hold a
// model's weights under the released names, an input batch with its masking
// noise, and the loss, prediction, mask and gradients that the released
// CRATE-MAE code computes from them (format crate-mae-parity/1).
package parity

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"harness/model"
	"harness/weights"
)

// Format is the parity-case format this package reads.
const Format = "crate-mae-parity/1"

// Tolerances: a case passes when |loss - expected| <= LossTol·max(1,
// |expected|) and, for the prediction and each gradient, max |got -
// expected| <= TensorTol·max(1, max |expected|).
const (
	LossTol   = 1e-4
	TensorTol = 2e-3
)

// Result is the outcome of one case.
type Result struct {
	Case         string   `json:"case"`
	OK           bool     `json:"ok"`
	Loss         float64  `json:"loss"`
	ExpectedLoss float64  `json:"expected_loss"`
	MaxPredErr   float64  `json:"max_pred_err"`
	MaskOK       bool     `json:"mask_ok"`
	MaxGradErr   float64  `json:"max_grad_err"` // the largest error relative to its tolerance scale
	WorstGrad    string   `json:"worst_grad"`   // the parameter it belongs to
	Failures     []string `json:"failures,omitempty"`
}

// Case is a parsed parity case.
type Case struct {
	Config    model.Config
	MaskRatio float64
	Batch     int
	file      *weights.File
}

// Read loads a parity case and the model configuration it describes.
func Read(path string) (*Case, error) {
	f, err := weights.Read(path)
	if err != nil {
		return nil, err
	}
	c, err := parseCase(f)
	if err != nil {
		return nil, fmt.Errorf("parity case %s: %w", path, err)
	}
	return c, nil
}

func parseCase(f *weights.File) (*Case, error) {
	md := f.Metadata
	if md["format"] != Format {
		return nil, fmt.Errorf("format %q, want %q", md["format"], Format)
	}
	var firstErr error
	num := func(key string) float64 {
		v, err := strconv.ParseFloat(md[key], 64)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("metadata %s: %q is not a number", key, md[key])
		}
		return v
	}
	integer := func(key string) int { return int(num(key)) }
	masking := md["masking"]
	if masking == "" {
		masking = model.MaskingReleased
	}
	cfg := model.Config{
		Arch: md["arch"], ImgSize: integer("img_size"), PatchSize: integer("patch_size"), InChans: integer("in_chans"),
		EmbedDim: integer("embed_dim"), Depth: integer("depth"), NumHeads: integer("num_heads"),
		DecoderEmbedDim: integer("decoder_embed_dim"), DecoderDepth: integer("decoder_depth"),
		DecoderNumHeads: integer("decoder_num_heads"), MLPRatio: 4,
		StepSize: num("step_size"), Lambd: num("lambd"), Masking: masking, NormPixLoss: md["norm_pix_loss"] == "1",
	}
	if v, ok := md["mlp_ratio"]; ok && v != "" {
		cfg.MLPRatio = num("mlp_ratio")
	}
	c := &Case{Config: cfg, MaskRatio: num("mask_ratio"), Batch: integer("batch"), file: f}
	if firstErr != nil {
		return nil, firstErr
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// tensor returns the named tensor as float64 values.
func (c *Case) tensor(name string) ([]float64, []int, error) {
	t, ok := c.file.Get(name)
	if !ok {
		return nil, nil, fmt.Errorf("missing tensor %s", name)
	}
	v, err := t.Float64()
	if err != nil {
		return nil, nil, fmt.Errorf("tensor %s: %w", name, err)
	}
	return v, t.Shape, nil
}

func (c *Case) tensor32(name string) ([]float32, error) {
	t, ok := c.file.Get(name)
	if !ok {
		return nil, fmt.Errorf("missing tensor %s", name)
	}
	return t.Float32()
}

// Model builds the case's model and loads its weights.
func (c *Case) Model() (*model.Model, error) {
	m, err := model.New(c.Config, 0)
	if err != nil {
		return nil, err
	}
	for _, p := range m.Params {
		t, ok := c.file.Get(p.Name)
		if !ok {
			return nil, fmt.Errorf("missing weight %s", p.Name)
		}
		v, err := t.Float32()
		if err != nil {
			return nil, fmt.Errorf("weight %s: %w", p.Name, err)
		}
		if err := m.SetParam(p.Name, t.Shape, v); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Check runs the case: forward with the case's noise, backward, and every
// comparison.
func Check(name string, c *Case) (Result, error) {
	r := Result{Case: name}
	m, err := c.Model()
	if err != nil {
		return r, err
	}
	g, err := m.NewGraph(c.Batch, c.MaskRatio, true)
	if err != nil {
		return r, err
	}
	images, err := c.tensor32("input.images")
	if err != nil {
		return r, err
	}
	noise, err := c.tensor32("input.noise")
	if err != nil {
		return r, err
	}
	out, err := g.Run(images, noise)
	if err != nil {
		return r, err
	}
	loss, _, err := c.tensor("expected.loss")
	if err != nil {
		return r, err
	}
	r.Loss, r.ExpectedLoss = float64(out.Loss), loss[0]
	if d := math.Abs(r.Loss - r.ExpectedLoss); !(d <= LossTol*math.Max(1, math.Abs(r.ExpectedLoss))) {
		r.Failures = append(r.Failures, fmt.Sprintf("loss %.8g, want %.8g", r.Loss, r.ExpectedLoss))
	}
	pred, _, err := c.tensor("expected.pred")
	if err != nil {
		return r, err
	}
	var ok bool
	if r.MaxPredErr, ok = compare(out.Pred, pred); !ok {
		r.Failures = append(r.Failures, fmt.Sprintf("prediction off by %.3g", r.MaxPredErr))
	}
	mask, _, err := c.tensor("expected.mask")
	if err != nil {
		return r, err
	}
	if maskErr, _ := compare(out.Mask, mask); maskErr == 0 {
		r.MaskOK = true
	} else {
		r.Failures = append(r.Failures, "mask differs")
	}
	for _, p := range m.Params {
		if !p.Trainable {
			continue
		}
		want, _, err := c.tensor("expected.grad." + p.Name)
		if err != nil {
			return r, err
		}
		got := g.Grad(p)
		if got == nil {
			got = make([]float32, len(want))
		}
		e, ok := compare(got, want)
		if scaled := e / scale(want); scaled >= r.MaxGradErr {
			r.MaxGradErr, r.WorstGrad = scaled, p.Name
		}
		if !ok {
			r.Failures = append(r.Failures, fmt.Sprintf("gradient of %s off by %.3g", p.Name, e))
		}
	}
	r.OK = len(r.Failures) == 0
	return r, nil
}

// scale is max(1, max |v|).
func scale(v []float64) float64 {
	s := 1.0
	for _, x := range v {
		s = math.Max(s, math.Abs(x))
	}
	return s
}

// compare returns max |got - want| and whether it is within TensorTol·scale.
func compare(got []float32, want []float64) (float64, bool) {
	if len(got) != len(want) {
		return math.Inf(1), false
	}
	var worst float64
	for i, w := range want {
		d := math.Abs(float64(got[i]) - w)
		if !(d <= worst) {
			worst = d
		}
	}
	return worst, worst <= TensorTol*scale(want)
}

// String summarises a result on one line.
func (r Result) String() string {
	status := "ok"
	if !r.OK {
		status = "FAIL: " + strings.Join(r.Failures, "; ")
	}
	return fmt.Sprintf("%s: loss %.8f (want %.8f), pred err %.2e, grad err %.2e (%s): %s",
		r.Case, r.Loss, r.ExpectedLoss, r.MaxPredErr, r.MaxGradErr, r.WorstGrad, status)
}
