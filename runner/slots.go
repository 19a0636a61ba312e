package runner

import (
	"fmt"
	"strconv"

	"harness/training"
)

// DefaultWorkers is the number of CPU slots the runs fit on cores: as many
// runs at once as the cores hold for the most demanding run's
// train.threads (0 meaning all cores), at least one.
func DefaultWorkers(jobs []Job, cores int) int {
	most := 1
	for i := range jobs {
		t := jobs[i].Run.Spec.Train.Threads
		if t == 0 {
			t = cores
		}
		most = max(most, t)
	}
	return max(1, cores/most)
}

// workerThreads is the number of threads a run's worker uses in one of
// workers CPU slots: the run's train.threads, or else its share of the
// cores.
func workerThreads(j *Job, cores, workers int) int {
	if t := j.Run.Spec.Train.Threads; t > 0 {
		return t
	}
	return max(1, cores/workers)
}

// MaxRunsPerGPU caps the runs packed onto one GPU when --runs-per-gpu is 0:
// past a handful, runs sharing a GPU's cores no longer finish sooner
// together than one after the other.
const MaxRunsPerGPU = 8

// gpuOverhead is the memory a run takes on a GPU before its model: the
// CUDA context, cuBLAS's workspace and the kernels.
const gpuOverhead = 512 << 20

// gpuMemoryShare is the share of a GPU's memory that runs are packed into,
// leaving room for fragmentation and for what the estimate misses.
const gpuMemoryShare = 0.9

// MemoryEstimate is the GPU memory, in bytes, a run is expected to need:
//
//	16·P           parameters, gradients and AdamW's two moments, float32, for P parameters
//	+ 4·B·A        the activations kept for the backward pass, B images a step
//	+ 512 MiB      the CUDA context, cuBLAS's workspace and the kernels
//
// where A, the floats kept per image, counts for each block 24 per token
// and unit of width (the norms' inputs and outputs, q, k, v, the
// attention's output, the projection, the MLP's hidden layer before and
// after its activation, the residuals, and room for the gradients of the
// backward pass) and 3 per head and pair of tokens (the attention's
// scores, their softmax and its gradient). The encoder sees the kept
// patches and the class token, the decoder every patch and the class
// token; the patches and their targets add 2 per pixel value. Against
// PyTorch's peak on an H200 (fp32) it says 1.2 GiB for the bench
// configuration's MAE at batch 64 (PyTorch: 0.81) and 56 GiB for
// mae_vit_base at batch 256 (60): an estimate to pack runs by, no more.
func MemoryEstimate(j *Job) uint64 {
	m := j.Run.Spec.Model
	n := m.NumPatches()
	kept, err := m.Kept(j.Run.Spec.Train.MaskRatio)
	if err != nil {
		kept = n
	}
	block := func(depth, tokens, width, heads int) uint64 {
		return uint64(depth) * (uint64(tokens)*uint64(24*width) + uint64(heads)*uint64(tokens*tokens)*3)
	}
	perImage := block(m.Depth, kept+1, m.EmbedDim, m.NumHeads) +
		block(m.DecoderDepth, n+1, m.DecoderEmbedDim, m.DecoderNumHeads) +
		2*uint64(n*m.PatchDim())
	return 16*uint64(j.Params.Total) + 4*uint64(j.Run.Spec.Train.BatchSize)*perImage + gpuOverhead
}

// PlaceOptions says how PlaceJobs spreads runs over the devices.
type PlaceOptions struct {
	// RunsPerGPU is how many runs share one GPU at once; 0 means as many
	// as fit its memory by MemoryEstimate, at most MaxRunsPerGPU.
	RunsPerGPU int
	// CPUWorkers is how many runs share the CPU at once, at least 1.
	CPUWorkers int
}

// A Place is where one run executes.
type Place struct {
	Device string // "cpu", or "cuda:i" with i the GPU's index (NVML's, as nvidia-smi shows it)
	GPU    int    // the position in PlaceJobs's gpus; -1 for the CPU
	// Env is what the worker's environment gains: CUDA_VISIBLE_DEVICES
	// naming its GPU alone (by UUID where known, as CUDA's own order of
	// indexes may differ from NVML's), so that it sees only that GPU.
	Env []string
}

// A Placement is where each run of an experiment executes, and how many
// runs each device takes at once.
type Placement struct {
	Places []Place        // one per job
	Slots  map[string]int // runs at once, by Place.Device
}

// PlaceJobs places each job on a device: a job whose train.device is
// "cpu" on the CPU; "auto" or "cuda" on the usable GPU with the fewest
// jobs so far (the first, on a tie), or on the CPU when gpus is empty.
// gpus are the usable GPUs, each with the memory free for runs. It is
// pure: the caller says which GPUs are usable, and refuses "cuda" without
// one before placing.
func PlaceJobs(jobs []Job, gpus []GPU, opt PlaceOptions) Placement {
	p := Placement{Places: make([]Place, len(jobs)), Slots: map[string]int{}}
	count := make([]int, len(gpus))   // jobs on each GPU
	need := make([]uint64, len(gpus)) // the most any of them needs
	cpuJobs := 0
	for i := range jobs {
		j := &jobs[i]
		if j.Run.Spec.Train.Device.Name() == training.DeviceCPU || len(gpus) == 0 {
			p.Places[i] = Place{Device: "cpu", GPU: -1}
			cpuJobs++
			continue
		}
		g := 0
		for k := range gpus {
			if count[k] < count[g] {
				g = k
			}
		}
		count[g]++
		need[g] = max(need[g], MemoryEstimate(j))
		p.Places[i] = Place{Device: gpuDevice(gpus[g]), GPU: g, Env: []string{"CUDA_VISIBLE_DEVICES=" + gpuName(gpus[g])}}
	}
	if cpuJobs > 0 {
		p.Slots["cpu"] = min(max(opt.CPUWorkers, 1), cpuJobs)
	}
	for g := range gpus {
		if count[g] > 0 {
			p.Slots[gpuDevice(gpus[g])] = min(runsPerGPU(gpus[g], need[g], opt.RunsPerGPU), count[g])
		}
	}
	return p
}

// runsPerGPU is how many runs share g at once: asked, or as many runs
// needing need bytes as fit its memory, at most MaxRunsPerGPU, at least 1.
func runsPerGPU(g GPU, need uint64, asked int) int {
	if asked > 0 {
		return asked
	}
	fit := int(gpuMemoryShare * float64(g.Memory) / float64(max(need, 1)))
	return min(max(fit, 1), MaxRunsPerGPU)
}

// gpuDevice names g as a run's device, "cuda:i".
func gpuDevice(g GPU) string { return fmt.Sprintf("cuda:%d", g.Index) }

// gpuName names g in CUDA_VISIBLE_DEVICES: its UUID, or else its index.
func gpuName(g GPU) string {
	if g.UUID != "" {
		return g.UUID
	}
	return strconv.Itoa(g.Index)
}
