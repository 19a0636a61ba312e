package training

import (
	"fmt"
	"math"
	"slices"
)

// Config is the [train] table of an experiment: the MAE pretraining recipe
// of the released CRATE-MAE code, counted in steps.
//
//	key               default  meaning
//	steps             1000     optimisation steps
//	batch_size        64       images per step
//	blr               1.5e-4   base learning rate: lr = blr · batch_size / 256
//	min_lr            0        the cosine schedule's floor
//	warmup_steps      50       linear warm-up from 0 to lr, then half-cycle cosine to min_lr
//	weight_decay      0.05     AdamW decay, on weight matrices only
//	beta1, beta2      0.9 0.95 AdamW moments
//	mask_ratio        0.75     share of patches removed
//	clip_grad         0        clip the global gradient norm to this; 0 = off
//	checkpoint_every  200      steps between checkpoints; 0 = only at the end
//	eval_every        0        steps between evaluations; 0 = only at the end
//	log_every         10       steps between train/loss records (the last step is always recorded)
//	threads           0        cores one run may use; 0 = all
//	device            "auto"   where the run computes: "auto", "cpu" or "cuda" (see Device)
type Config struct {
	Steps           int     `toml:"steps" json:"steps"`
	BatchSize       int     `toml:"batch_size" json:"batch_size"`
	BLR             float64 `toml:"blr" json:"blr"`
	MinLR           float64 `toml:"min_lr" json:"min_lr"`
	WarmupSteps     int     `toml:"warmup_steps" json:"warmup_steps"`
	WeightDecay     float64 `toml:"weight_decay" json:"weight_decay"`
	Beta1           float64 `toml:"beta1" json:"beta1"`
	Beta2           float64 `toml:"beta2" json:"beta2"`
	MaskRatio       float64 `toml:"mask_ratio" json:"mask_ratio"`
	ClipGrad        float64 `toml:"clip_grad" json:"clip_grad"`
	CheckpointEvery int     `toml:"checkpoint_every" json:"checkpoint_every"`
	EvalEvery       int     `toml:"eval_every" json:"eval_every"`
	LogEvery        int     `toml:"log_every" json:"log_every"`
	Threads         int     `toml:"threads" json:"threads"`
	// Device is left out of the JSON form when it is "auto", so that the
	// runs made before it existed keep their hashes.
	Device Device `toml:"device" json:"device,omitzero"`
}

// Device is train.device, where a run computes:
//
//	auto  the GPU the runner gives the run, else the CPU
//	cpu   the CPU
//	cuda  a GPU; refused before anything runs when none is usable
//
// "" means auto.
type Device string

// The devices of train.device.
const (
	DeviceAuto Device = "auto"
	DeviceCPU  Device = "cpu"
	DeviceCUDA Device = "cuda"
)

// Devices lists train.device's values.
var Devices = []Device{DeviceAuto, DeviceCPU, DeviceCUDA}

// IsZero reports whether d is auto, the default, which the JSON form
// leaves out.
func (d Device) IsZero() bool { return d == "" || d == DeviceAuto }

// Name returns d, with "" read as auto.
func (d Device) Name() Device {
	if d == "" {
		return DeviceAuto
	}
	return d
}

// DefaultConfig returns the defaults above.
func DefaultConfig() Config {
	return Config{
		Steps: 1000, BatchSize: 64, BLR: 1.5e-4, WarmupSteps: 50, WeightDecay: 0.05,
		Beta1: 0.9, Beta2: 0.95, MaskRatio: 0.75, CheckpointEvery: 200, LogEvery: 10,
		Device: DeviceAuto,
	}
}

// LR is the peak learning rate, blr · batch_size / 256.
func (c Config) LR() float64 { return c.BLR * float64(c.BatchSize) / 256 }

// Validate reports the first impossible value, naming its key.
func (c Config) Validate() error {
	for _, k := range []struct {
		key    string
		v, min int
	}{
		{"steps", c.Steps, 1}, {"batch_size", c.BatchSize, 1}, {"warmup_steps", c.WarmupSteps, 0},
		{"checkpoint_every", c.CheckpointEvery, 0}, {"eval_every", c.EvalEvery, 0},
		{"log_every", c.LogEvery, 1}, {"threads", c.Threads, 0},
	} {
		if k.v < k.min {
			return fmt.Errorf("train.%s: must be >= %d, got %d", k.key, k.min, k.v)
		}
	}
	if c.WarmupSteps > c.Steps {
		return fmt.Errorf("train.warmup_steps: %d is longer than train.steps %d", c.WarmupSteps, c.Steps)
	}
	for _, k := range []struct {
		key string
		v   float64
	}{{"blr", c.BLR}, {"min_lr", c.MinLR}, {"weight_decay", c.WeightDecay}, {"clip_grad", c.ClipGrad}} {
		if !(k.v >= 0) || math.IsInf(k.v, 0) {
			return fmt.Errorf("train.%s: must be a finite number >= 0, got %v", k.key, k.v)
		}
	}
	if c.MinLR > c.LR() {
		return fmt.Errorf("train.min_lr: %g is above the peak learning rate %g (blr · batch_size / 256)", c.MinLR, c.LR())
	}
	for _, k := range []struct {
		key string
		v   float64
	}{{"beta1", c.Beta1}, {"beta2", c.Beta2}} {
		if !(k.v >= 0 && k.v < 1) {
			return fmt.Errorf("train.%s: must lie in [0, 1), got %v", k.key, k.v)
		}
	}
	if !(c.MaskRatio > 0 && c.MaskRatio < 1) {
		return fmt.Errorf("train.mask_ratio: must lie in (0, 1), got %v", c.MaskRatio)
	}
	if !slices.Contains(Devices, c.Device.Name()) {
		return fmt.Errorf("train.device: must be \"auto\", \"cpu\" or \"cuda\", got %q", c.Device)
	}
	return nil
}
