package evaluation

import "fmt"

// Config is the [eval] table of an experiment: which evaluations run at
// each evaluation step.
//
//	key            default  meaning
//	images         256      held-out test images for eval/recon_loss and the layer-wise measurements
//	linear_probe   true     eval/linear_probe_acc and eval/linear_probe_acc_mean (and _pixels at step 0)
//	knn            true     eval/knn_acc, 20 nearest neighbours by cosine similarity (and _pixels at step 0)
//	knn_k          20       neighbours of the k-NN classifier
//	probe_train    2000     train images the linear probe and k-NN fit on (0 = the whole train split)
//	probe_test     1000     test images they are scored on (0 = the whole test split)
//	layerwise      true     layer/enc/<i>/coding_rate, .../sparsity and the decoder's
//	recon_samples  8        test images in the reconstruction grid PNG; 0 = none
type Config struct {
	Images       int  `toml:"images" json:"images"`
	LinearProbe  bool `toml:"linear_probe" json:"linear_probe"`
	KNN          bool `toml:"knn" json:"knn"`
	KNNK         int  `toml:"knn_k" json:"knn_k"`
	ProbeTrain   int  `toml:"probe_train" json:"probe_train"`
	ProbeTest    int  `toml:"probe_test" json:"probe_test"`
	Layerwise    bool `toml:"layerwise" json:"layerwise"`
	ReconSamples int  `toml:"recon_samples" json:"recon_samples"`
}

// DefaultConfig returns the defaults above.
func DefaultConfig() Config {
	return Config{Images: 256, LinearProbe: true, KNN: true, KNNK: 20, ProbeTrain: 2000, ProbeTest: 1000, Layerwise: true, ReconSamples: 8}
}

// Validate reports the first impossible value, naming its key.
func (c Config) Validate() error {
	for _, k := range []struct {
		key    string
		v, min int
	}{
		{"images", c.Images, 1}, {"knn_k", c.KNNK, 1}, {"probe_train", c.ProbeTrain, 0},
		{"probe_test", c.ProbeTest, 0}, {"recon_samples", c.ReconSamples, 0},
	} {
		if k.v < k.min {
			return fmt.Errorf("eval.%s: must be >= %d, got %d", k.key, k.min, k.v)
		}
	}
	return nil
}
