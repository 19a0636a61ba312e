package runner

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"harness/cuda"
	"harness/training"
)

// Compute says where this build's models compute. The graphs run on
// gorgonia's CPU engine with OpenBLAS. The CUDA binding (package cuda)
// exists, but no executor runs the models' graphs on a GPU yet, so GPUs are
// found, checked and listed, but never computed on.
const Compute = "CPU only: the CUDA executor is not built yet, so runs use CPU slots and GPUs are not computed on"

// GPUExecutor says whether this build can run a model on a GPU. It turns
// true with the CUDA executor; until then every run computes on the CPU,
// train.device = "cuda" is refused and "auto" means the CPU.
const GPUExecutor = false

// A GPU is an NVIDIA GPU found through NVML.
type GPU struct {
	Index  int // NVML's index
	UUID   string
	Name   string
	Memory uint64 // bytes
}

// Devices is what Discover found on the machine.
type Devices struct {
	Cores int // runtime.NumCPU: the cores this process may use
	// GPUs are those CUDA_VISIBLE_DEVICES leaves visible, in its order.
	GPUs []GPU
	// Hidden counts the GPUs found that CUDA_VISIBLE_DEVICES hides.
	Hidden int
	// Driver is the NVIDIA driver's version, "" without NVML.
	Driver string
	// NVMLErr says why no GPU could be listed: NVML is absent (no
	// libnvidia-ml.so.1) or failed. It is nil when NVML answered.
	NVMLErr error
}

// Discover lists the cores and, through NVML, the GPUs. NVML is loaded at
// run time, so a machine without the NVIDIA driver just has no GPUs.
func Discover() Devices {
	d := Devices{Cores: runtime.NumCPU()}
	all, driver, err := nvmlGPUs()
	if err != nil {
		d.NVMLErr = err
		return d
	}
	d.Driver = driver
	env, set := os.LookupEnv("CUDA_VISIBLE_DEVICES")
	d.GPUs = all
	if set {
		d.GPUs = visible(all, env)
	}
	d.Hidden = len(all) - len(d.GPUs)
	return d
}

// nvmlGPUs asks NVML for every GPU and the driver version.
func nvmlGPUs() ([]GPU, string, error) {
	driver, devs, err := cuda.NVML()
	if err != nil {
		return nil, "", err
	}
	gpus := make([]GPU, len(devs))
	for i, d := range devs {
		gpus[i] = GPU{Index: i, Name: d.Name, UUID: d.UUID, Memory: d.Memory}
	}
	return gpus, driver, nil
}

// visible applies a CUDA_VISIBLE_DEVICES value to the GPUs, as CUDA does:
// a comma-separated list of indexes or UUIDs (or unique UUID prefixes,
// "GPU-" included), in the order given, ending at the first entry that
// names no GPU or one already listed. An empty value hides every GPU.
func visible(all []GPU, env string) []GPU {
	var gpus []GPU
	seen := map[int]bool{}
	for _, tok := range strings.Split(env, ",") {
		tok = strings.TrimSpace(tok)
		i, ok := findGPU(all, tok)
		if !ok || seen[i] {
			break
		}
		seen[i] = true
		gpus = append(gpus, all[i])
	}
	return gpus
}

// findGPU returns the position in all of the GPU tok names.
func findGPU(all []GPU, tok string) (int, bool) {
	if tok == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(tok); err == nil {
		return n, n >= 0 && n < len(all)
	}
	found := -1
	for i, g := range all {
		if strings.HasPrefix(g.UUID, tok) || strings.HasPrefix(strings.TrimPrefix(g.UUID, "GPU-"), tok) {
			if found >= 0 {
				return 0, false // ambiguous
			}
			found = i
		}
	}
	return found, found >= 0
}

// CUDA is what loading CUDA (the driver API, NVRTC and cuBLAS) found.
type CUDA struct {
	// Err says why CUDA could not be loaded: a library missing (and where
	// it was looked for), the driver too old, or cuInit failing. The
	// other fields are empty then.
	Err           error
	DriverVersion int      // as CUDA writes it, 13000 for 13.0
	NVRTC         string   // NVRTC's version, "13.0"
	Libraries     []string // the paths the libraries were opened from
	// GPUs are the devices the driver sees (after CUDA_VISIBLE_DEVICES).
	GPUs []cuda.DeviceInfo
	// Archs are the compute capabilities NVRTC compiles for (90 for
	// sm_90).
	Archs []int
}

// ProbeCUDA loads CUDA and lists its devices with their free memory,
// which briefly creates a context on each.
func ProbeCUDA() CUDA {
	rt, err := cuda.Load()
	if err != nil {
		return CUDA{Err: err}
	}
	c := CUDA{DriverVersion: rt.DriverVersion, NVRTC: rt.NVRTCVersion(), Libraries: rt.Libraries}
	if c.GPUs, err = rt.Devices(); err != nil {
		return CUDA{Err: fmt.Errorf("list the GPUs: %w", err)}
	}
	if c.Archs, err = rt.SupportedArchs(); err != nil {
		return CUDA{Err: fmt.Errorf("NVRTC's architectures: %w", err)}
	}
	return c
}

// Unusable says why the CUDA binding cannot compute on g; nil when it can.
func (c CUDA) Unusable(g cuda.DeviceInfo) error {
	if !slices.Contains(c.Archs, 10*g.Major+g.Minor) {
		return fmt.Errorf("NVRTC %s cannot compile for %s", c.NVRTC, g.Arch())
	}
	return nil
}

// Usable returns the GPUs the CUDA binding can compute on, or says why
// there are none.
func (c CUDA) Usable() ([]cuda.DeviceInfo, error) {
	if c.Err != nil {
		return nil, c.Err
	}
	var usable []cuda.DeviceInfo
	var why []string
	for _, g := range c.GPUs {
		if err := c.Unusable(g); err != nil {
			why = append(why, fmt.Sprintf("GPU %d (%s): %v", g.Ordinal, g.Name, err))
			continue
		}
		usable = append(usable, g)
	}
	switch {
	case len(c.GPUs) == 0:
		return nil, fmt.Errorf("the NVIDIA driver (CUDA %s) lists no GPU", cuda.VersionString(c.DriverVersion))
	case len(usable) == 0:
		return nil, errors.New(strings.Join(why, "; "))
	}
	return usable, nil
}

// ResolveDevice says where a run with train.device = want computes in
// this build, which has no CUDA executor (GPUExecutor is false), given
// what ProbeCUDA found: the device ("cpu"), and for auto a note saying
// why the CPU. train.device = "cuda" is an error
// naming the library or driver at fault, or, with a usable GPU, saying
// that the CUDA executor is not built yet.
func ResolveDevice(want training.Device, c CUDA) (device, note string, err error) {
	if want.Name() == training.DeviceCPU {
		return "cpu", "", nil
	}
	usable, err := c.Usable()
	switch {
	case want.Name() == training.DeviceCUDA && err != nil:
		return "", "", fmt.Errorf("train.device = \"cuda\": no usable GPU: %w", err)
	case want.Name() == training.DeviceCUDA:
		return "", "", fmt.Errorf("train.device = \"cuda\": %s, but the CUDA executor is not built yet, "+
			"so this build computes on the CPU only; set train.device = \"auto\" or \"cpu\"", describeUsable(usable))
	case err != nil:
		return "cpu", fmt.Sprintf("no usable GPU: %v; computing on the CPU", err), nil
	}
	return "cpu", fmt.Sprintf("%s, but the CUDA executor is not built yet; computing on the CPU", describeUsable(usable)), nil
}

// describeUsable says which GPUs are usable.
func describeUsable(gpus []cuda.DeviceInfo) string {
	g := gpus[0]
	s := fmt.Sprintf("GPU %d (%s, %s) is usable", g.Ordinal, g.Name, g.Arch())
	if len(gpus) > 1 {
		s = fmt.Sprintf("%d GPUs are usable (%s, ...)", len(gpus), g.Name)
	}
	return s
}

// SlotGPUs are the GPUs runs can be placed on (see PlaceJobs): those CUDA
// can compute on, named by their NVML index where NVML lists them (as
// nvidia-smi does), else by CUDA's ordinal, with their free memory.
func (c CUDA) SlotGPUs(d Devices) []GPU {
	usable, _ := c.Usable()
	gpus := make([]GPU, len(usable))
	for i, g := range usable {
		gpus[i] = GPU{Index: g.Ordinal, UUID: g.UUID, Name: g.Name, Memory: g.FreeMemory}
		for _, n := range d.GPUs {
			if n.UUID == g.UUID {
				gpus[i].Index = n.Index
			}
		}
	}
	return gpus
}
