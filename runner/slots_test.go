package runner

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"harness/ablations"
	"harness/model"
	"harness/training"
)

func TestWorkers(t *testing.T) {
	_, jobs := tinyJobs(t) // train.threads 0: all cores
	if n := DefaultWorkers(jobs, 16); n != 1 {
		t.Errorf("threads 0 on 16 cores: %d workers, want 1", n)
	}
	if n := workerThreads(&jobs[0], 16, 1); n != 16 {
		t.Errorf("threads 0, one worker on 16 cores: %d threads, want 16", n)
	}
	if n := workerThreads(&jobs[0], 16, 3); n != 5 {
		t.Errorf("threads 0, 3 workers on 16 cores: %d threads, want 5", n)
	}
	_, jobs = tinyJobs(t, "train.threads=3")
	if n := DefaultWorkers(jobs, 16); n != 5 {
		t.Errorf("threads 3 on 16 cores: %d workers, want 5", n)
	}
	if n := DefaultWorkers(jobs, 2); n != 1 {
		t.Errorf("threads 3 on 2 cores: %d workers, want 1", n)
	}
	if n := workerThreads(&jobs[0], 16, 5); n != 3 {
		t.Errorf("threads 3: %d threads, want 3", n)
	}
}

// jobsOf makes n jobs of spec with the train.device given.
func jobsOf(t *testing.T, n int, spec training.Spec, device training.Device) []Job {
	t.Helper()
	spec.Train.Device = device
	counts, err := model.CountParams(spec.Model)
	if err != nil {
		t.Fatal(err)
	}
	jobs := make([]Job, n)
	for i := range jobs {
		jobs[i] = Job{Run: ablations.Run{Name: fmt.Sprintf("%s-%d", device, i), Spec: spec}, Params: counts}
	}
	return jobs
}

func TestMemoryEstimate(t *testing.T) {
	bench := training.BenchSpec()
	bench.Model.Arch = model.ArchViT
	base := training.DefaultSpec()
	base.Model = model.Presets["mae_vit_base"]
	base.Train.BatchSize = 256
	for _, tt := range []struct {
		name     string
		spec     training.Spec
		min, max float64 // GiB
	}{
		{"bench vit, batch 64", bench, 0.8, 2},    // PyTorch: 0.81 GiB
		{"mae_vit_base, batch 256", base, 40, 70}, // PyTorch: 60.0 GiB
	} {
		j := jobsOf(t, 1, tt.spec, training.DeviceAuto)[0]
		got := float64(MemoryEstimate(&j)) / (1 << 30)
		t.Logf("%s: %.2f GiB", tt.name, got)
		if got < tt.min || got > tt.max {
			t.Errorf("%s: %.2f GiB, want %g to %g", tt.name, got, tt.min, tt.max)
		}
	}
}

func TestPlaceJobs(t *testing.T) {
	small := training.BenchSpec() // about 1.2 GiB a run
	big := training.DefaultSpec()
	big.Model = model.Presets["mae_vit_base"]
	big.Train.BatchSize = 256 // about 56 GiB a run
	h200 := GPU{Index: 0, UUID: "GPU-aaaa", Name: "NVIDIA H200", Memory: 140 << 30}
	second := GPU{Index: 3, UUID: "GPU-bbbb", Name: "NVIDIA H200", Memory: 140 << 30}
	small16 := GPU{Index: 1, Name: "a small GPU", Memory: 16 << 30}
	cat := func(js ...[]Job) []Job { return slices.Concat(js...) }

	tests := []struct {
		name    string
		jobs    []Job
		gpus    []GPU
		opt     PlaceOptions
		devices []string       // each job's device
		slots   map[string]int // runs at once per device
	}{
		{"no GPU: all on the CPU", cat(jobsOf(t, 2, small, training.DeviceAuto), jobsOf(t, 1, small, training.DeviceCPU)), nil,
			PlaceOptions{CPUWorkers: 2}, []string{"cpu", "cpu", "cpu"}, map[string]int{"cpu": 2}},
		{"auto packs onto the GPU, at most 8", jobsOf(t, 12, small, training.DeviceAuto), []GPU{h200},
			PlaceOptions{CPUWorkers: 1}, slices.Repeat([]string{"cuda:0"}, 12), map[string]int{"cuda:0": 8}},
		{"no more slots than runs", jobsOf(t, 3, small, training.DeviceCUDA), []GPU{h200},
			PlaceOptions{}, slices.Repeat([]string{"cuda:0"}, 3), map[string]int{"cuda:0": 3}},
		{"--runs-per-gpu 2", jobsOf(t, 5, small, training.DeviceAuto), []GPU{h200},
			PlaceOptions{RunsPerGPU: 2}, slices.Repeat([]string{"cuda:0"}, 5), map[string]int{"cuda:0": 2}},
		{"memory bounds the packing", jobsOf(t, 4, big, training.DeviceAuto), []GPU{h200},
			PlaceOptions{}, slices.Repeat([]string{"cuda:0"}, 4), map[string]int{"cuda:0": 2}},
		{"a run too big still gets one slot", jobsOf(t, 2, big, training.DeviceAuto), []GPU{small16},
			PlaceOptions{}, []string{"cuda:1", "cuda:1"}, map[string]int{"cuda:1": 1}},
		{"cpu runs stay on the CPU", cat(jobsOf(t, 1, small, training.DeviceCPU), jobsOf(t, 2, small, training.DeviceAuto)), []GPU{h200},
			PlaceOptions{CPUWorkers: 4}, []string{"cpu", "cuda:0", "cuda:0"}, map[string]int{"cpu": 1, "cuda:0": 2}},
		{"two GPUs share the runs", jobsOf(t, 5, small, training.DeviceAuto), []GPU{h200, second},
			PlaceOptions{}, []string{"cuda:0", "cuda:3", "cuda:0", "cuda:3", "cuda:0"}, map[string]int{"cuda:0": 3, "cuda:3": 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := PlaceJobs(tt.jobs, tt.gpus, tt.opt)
			var devices []string
			for _, pl := range p.Places {
				devices = append(devices, pl.Device)
			}
			if !slices.Equal(devices, tt.devices) {
				t.Errorf("devices %v, want %v", devices, tt.devices)
			}
			if !maps.Equal(p.Slots, tt.slots) {
				t.Errorf("slots %v, want %v", p.Slots, tt.slots)
			}
		})
	}
}

// TestPlaceEnv: a GPU run's worker sees its GPU alone, by UUID where
// known; a CPU run's environment is left alone.
func TestPlaceEnv(t *testing.T) {
	jobs := slices.Concat(jobsOf(t, 2, training.BenchSpec(), training.DeviceAuto), jobsOf(t, 1, training.BenchSpec(), training.DeviceCPU))
	p := PlaceJobs(jobs, []GPU{{Index: 2, UUID: "GPU-cccc"}, {Index: 5}}, PlaceOptions{})
	want := [][]string{{"CUDA_VISIBLE_DEVICES=GPU-cccc"}, {"CUDA_VISIBLE_DEVICES=5"}, nil}
	for i, pl := range p.Places {
		if !slices.Equal(pl.Env, want[i]) {
			t.Errorf("job %d on %s: env %v, want %v", i, pl.Device, pl.Env, want[i])
		}
	}
	if p.Places[1].GPU != 1 || p.Places[2].GPU != -1 {
		t.Errorf("GPU positions %d, %d, want 1, -1", p.Places[1].GPU, p.Places[2].GPU)
	}
}
