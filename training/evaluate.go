package training

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/netlib/blas/netlib"

	"harness/data"
	"harness/evaluation"
	"harness/model"
)

// evalStream is the PCG stream of the fixed evaluation noise, apart from
// the training steps' streams (1, 2, ...).
const evalStream = 1 << 62

// evaluator runs the evaluations of the [eval] table on fixed held-out
// images, with graphs compiled once.
type evaluator struct {
	spec    Spec
	m       *model.Model
	ds      *data.Dataset
	dir     string
	batch   int
	masked  *model.Graph // forward only, at the training mask ratio
	encoder *model.Graph // unmasked, for features
	images  []float32    // the held-out images, a whole number of batches
	noise   []float32    // fixed masking noise for them
}

func newEvaluator(spec Spec, m *model.Model, ds *data.Dataset, dir string) (*evaluator, error) {
	e := spec.Eval
	n := min(e.Images, ds.Test.Len())
	batch := min(spec.Train.BatchSize, n)
	n -= n % batch // a whole number of batches: every image counts the same
	ev := &evaluator{spec: spec, m: m, ds: ds, dir: dir, batch: batch}
	var err error
	if ev.masked, err = m.NewGraph(batch, spec.Train.MaskRatio, false); err != nil {
		return nil, err
	}
	if e.LinearProbe || e.KNN {
		if ev.encoder, err = m.NewEncoder(batch); err != nil {
			return nil, err
		}
	}
	size := ds.Transform.In.Len()
	ev.images = make([]float32, n*size)
	for i := 0; i < n; i++ {
		ds.Test.Image(ev.images[i*size:(i+1)*size], i)
	}
	ev.noise = make([]float32, n*spec.Model.NumPatches())
	rng := rand.New(rand.NewPCG(spec.Seed, evalStream))
	for i := range ev.noise {
		ev.noise[i] = rng.Float32()
	}
	return ev, nil
}

// run evaluates the model at a step and sends the figures to sink.
func (ev *evaluator) run(step int, sink Sink) error {
	values, err := ev.reconstruction(step, sink)
	if err != nil {
		return err
	}
	if ev.encoder != nil {
		if err := ev.probes(values); err != nil {
			return err
		}
		if step == 0 {
			if err := ev.pixelProbes(values); err != nil {
				return err
			}
		}
	}
	return sink.Metrics(step, values)
}

// reconstruction measures eval/recon_loss and the layer-wise figures over
// the held-out images, and draws the reconstruction grid. Each layer's
// sparsity is measured twice: the fraction of exact zeros (CRATE's ISTA
// output has them, MAE's GELU none), and Hoyer's measure per token, which
// means something for both.
func (ev *evaluator) reconstruction(step int, sink Sink) (map[string]float64, error) {
	c := ev.spec.Model
	size, l := ev.ds.Transform.In.Len(), c.NumPatches()
	batches := len(ev.images) / (size * ev.batch)
	values := map[string]float64{}
	hoyer := map[string][]float64{} // per batch, where defined
	var loss float64
	for b := 0; b < batches; b++ {
		images := ev.images[b*ev.batch*size : (b+1)*ev.batch*size]
		out, err := ev.masked.Run(images, ev.noise[b*ev.batch*l:(b+1)*ev.batch*l])
		if err != nil {
			return nil, fmt.Errorf("evaluating at step %d: %w", step, err)
		}
		loss += float64(out.Loss) / float64(batches)
		if ev.spec.Eval.Layerwise {
			for _, layer := range ev.masked.Layers() {
				part := "enc"
				if layer.Decoder {
					part = "dec"
				}
				key := fmt.Sprintf("layer/%s/%d/", part, layer.Index)
				values[key+"coding_rate"] += codingRate(layer, ev.batch) / float64(batches)
				values[key+"sparsity"] += evaluation.Sparsity(layer.Sparse) / float64(batches)
				// per token: the activation's width is its share of the tokens
				width := len(layer.Sparse) / (len(layer.Tokens) / layer.Width)
				if h := evaluation.Hoyer(layer.Sparse, width); !math.IsNaN(h) {
					hoyer[key+"hoyer"] = append(hoyer[key+"hoyer"], h)
				}
			}
		}
		if b == 0 && ev.spec.Eval.ReconSamples > 0 {
			if err := ev.reconGrid(step, images, out, sink); err != nil {
				return nil, err
			}
		}
	}
	values["eval/recon_loss"] = loss
	for k, hs := range hoyer {
		var sum float64
		for _, h := range hs {
			sum += h
		}
		values[k] = sum / float64(len(hs))
	}
	return values, nil
}

// codingRate is the layer's coding rate averaged over the batch's images:
// for each image, the sum over heads h of R(Z Uₕᵀ), the tokens Z projected
// on the head's subspace (evaluation.CodingRate normalises each token).
func codingRate(layer model.Layer, batch int) float64 {
	tokens := len(layer.Tokens) / (layer.Width * batch)
	proj := make([]float32, len(layer.Tokens))
	blasImpl.Sgemm(blas.NoTrans, blas.Trans, batch*tokens, layer.Width, layer.Width,
		1, layer.Tokens, layer.Width, layer.Subspaces, layer.Width, 0, proj, layer.Width)
	var total float64
	for e := 0; e < batch; e++ {
		total += evaluation.CodingRateHeads(proj[e*tokens*layer.Width:(e+1)*tokens*layer.Width], tokens, layer.Heads, layer.Width/layer.Heads, evaluation.CodingRateEps)
	}
	return total / float64(batch)
}

var blasImpl blas.Float32 = netlib.Implementation{}

// probes measures eval/linear_probe_acc (cls token), its _mean variant
// (mean of the patch tokens) and eval/knn_acc on the unmasked encoder's
// features.
func (ev *evaluator) probes(values map[string]float64) error {
	e := ev.spec.Eval
	trainCls, trainMean, err := ev.features(ev.ds.Train, e.ProbeTrain)
	if err != nil {
		return err
	}
	testCls, testMean, err := ev.features(ev.ds.Test, e.ProbeTest)
	if err != nil {
		return err
	}
	if e.LinearProbe {
		acc, err := evaluation.LinearProbe(trainCls, testCls, ev.ds.Classes)
		if err != nil {
			return fmt.Errorf("linear probe: %w", err)
		}
		values["eval/linear_probe_acc"] = acc
		if acc, err = evaluation.LinearProbe(trainMean, testMean, ev.ds.Classes); err != nil {
			return fmt.Errorf("linear probe on mean tokens: %w", err)
		}
		values["eval/linear_probe_acc_mean"] = acc
	}
	if e.KNN {
		acc, err := evaluation.KNN(trainCls, testCls, e.KNNK)
		if err != nil {
			return fmt.Errorf("k-NN: %w", err)
		}
		values["eval/knn_acc"] = acc
	}
	return nil
}

// pixelProbes measures the baselines eval/linear_probe_acc_pixels and
// eval/knn_acc_pixels: the same probes on the raw pixels, the flattened
// normalised images, of the same train and test images. They do not depend
// on the model, so a run measures them once, at step 0. On 28-pixel MNIST
// with the default 2000 train and 1000 test images (784 features) both
// take about 2.6 s together on two shared cores, once per run.
func (ev *evaluator) pixelProbes(values map[string]float64) error {
	e := ev.spec.Eval
	train, test := ev.pixels(ev.ds.Train, e.ProbeTrain), ev.pixels(ev.ds.Test, e.ProbeTest)
	if e.LinearProbe {
		acc, err := evaluation.LinearProbe(train, test, ev.ds.Classes)
		if err != nil {
			return fmt.Errorf("linear probe on pixels: %w", err)
		}
		values["eval/linear_probe_acc_pixels"] = acc
	}
	if e.KNN {
		acc, err := evaluation.KNN(train, test, e.KNNK)
		if err != nil {
			return fmt.Errorf("k-NN on pixels: %w", err)
		}
		values["eval/knn_acc_pixels"] = acc
	}
	return nil
}

// pixels returns the first n images of a split (all when n is 0) as
// features: each image's normalised values, flattened.
func (ev *evaluator) pixels(s *data.Split, n int) evaluation.Features {
	if n == 0 || n > s.Len() {
		n = s.Len()
	}
	size := ev.ds.Transform.In.Len()
	f := evaluation.Features{X: make([]float32, n*size), N: n, D: size, Labels: make([]int, n)}
	for i := range n {
		s.Image(f.X[i*size:(i+1)*size], i)
		f.Labels[i] = s.Label(i)
	}
	return f
}

// features encodes the first n images of a split (all when n is 0) and
// returns the cls token's features and the mean of the patch tokens'.
func (ev *evaluator) features(s *data.Split, n int) (cls, mean evaluation.Features, err error) {
	if n == 0 || n > s.Len() {
		n = s.Len()
	}
	d, l := ev.spec.Model.EmbedDim, ev.spec.Model.NumPatches()
	cls = evaluation.Features{X: make([]float32, n*d), N: n, D: d, Labels: make([]int, n)}
	mean = evaluation.Features{X: make([]float32, n*d), N: n, D: d, Labels: cls.Labels}
	size := ev.ds.Transform.In.Len()
	images := make([]float32, ev.batch*size)
	for start := 0; start < n; start += ev.batch {
		// the last batch is padded with its first image; the padding's
		// features are dropped
		count := min(ev.batch, n-start)
		for i := 0; i < ev.batch; i++ {
			s.Image(images[i*size:(i+1)*size], start+min(i, count-1))
		}
		tokens, err := ev.encoder.Encode(images)
		if err != nil {
			return cls, mean, fmt.Errorf("encoding: %w", err)
		}
		for i := 0; i < count; i++ {
			img := tokens[i*(1+l)*d : (i+1)*(1+l)*d]
			copy(cls.X[(start+i)*d:(start+i+1)*d], img[:d])
			m := mean.X[(start+i)*d : (start+i+1)*d]
			for t := 1; t <= l; t++ {
				for j, v := range img[t*d : (t+1)*d] {
					m[j] += v / float32(l)
				}
			}
			cls.Labels[start+i] = s.Label(start + i)
		}
	}
	return cls, mean, nil
}

// reconGrid writes the reconstruction grid of the first recon_samples
// held-out images at a step: original, masked input, reconstruction and
// reconstruction with the visible patches pasted in.
func (ev *evaluator) reconGrid(step int, images []float32, out model.Output, sink Sink) error {
	c := ev.spec.Model
	k := min(ev.spec.Eval.ReconSamples, ev.batch)
	size, l, p := ev.ds.Transform.In.Len(), c.NumPatches(), c.PatchDim()
	images = images[:k*size]
	target := c.Patchify(images)
	pred := append([]float32(nil), out.Pred[:k*l*p]...)
	if c.NormPixLoss {
		unstandardise(pred, target, p)
	}
	masked, pasted := append([]float32(nil), target...), append([]float32(nil), pred...)
	for i := 0; i < k*l; i++ {
		patch := func(v []float32) []float32 { return v[i*p : (i+1)*p] }
		if out.Mask[i] == 1 {
			clear(patch(masked))
		} else {
			copy(patch(pasted), patch(target))
		}
	}
	path := filepath.Join(ev.dir, fmt.Sprintf("recon_step%06d.png", step))
	cols := [][]float32{images, c.Unpatchify(masked), c.Unpatchify(pred), c.Unpatchify(pasted)}
	if err := evaluation.WriteLabelledReconGrid(path, cols, gridLabels, k, c.InChans, c.ImgSize, ev.ds.Transform.Mean, ev.ds.Transform.Std); err != nil {
		return err
	}
	return sink.Artifact("recon_grid", path)
}

// gridLabels name the columns of the reconstruction grids.
var gridLabels = []string{"original", "masked", "reconstruction", "reconstruction + visible"}

// unstandardise maps predictions made in norm_pix_loss units back to pixels
// with each target patch's own mean and standard deviation.
func unstandardise(pred, target []float32, p int) {
	for r := 0; r+p <= len(pred); r += p {
		mean, std := model.PatchStats(target[r : r+p])
		for j := r; j < r+p; j++ {
			pred[j] = float32(float64(pred[j])*std + mean)
		}
	}
}
