package runner

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// Compute says where this build's models compute. The graphs run on
// gorgonia's CPU engine with OpenBLAS; gorgonia's CUDA backend is not built
// in, so GPUs are found and listed but never used.
const Compute = "CPU only: gorgonia's CUDA backend is not built in, so runs use CPU slots and GPUs are not used"

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
	if ret := nvml.Init(); ret != nvml.SUCCESS {
		return nil, "", fmt.Errorf("NVML: %v", ret)
	}
	defer nvml.Shutdown()
	driver, ret := nvml.SystemGetDriverVersion()
	if ret != nvml.SUCCESS {
		return nil, "", fmt.Errorf("NVML: driver version: %v", ret)
	}
	n, ret := nvml.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return nil, "", fmt.Errorf("NVML: count devices: %v", ret)
	}
	gpus := make([]GPU, n)
	for i := range gpus {
		dev, ret := nvml.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			return nil, "", fmt.Errorf("NVML: device %d: %v", i, ret)
		}
		g := GPU{Index: i}
		if g.Name, ret = dev.GetName(); ret != nvml.SUCCESS {
			return nil, "", fmt.Errorf("NVML: device %d: name: %v", i, ret)
		}
		if g.UUID, ret = dev.GetUUID(); ret != nvml.SUCCESS {
			return nil, "", fmt.Errorf("NVML: device %d: UUID: %v", i, ret)
		}
		mem, ret := dev.GetMemoryInfo()
		if ret != nvml.SUCCESS {
			return nil, "", fmt.Errorf("NVML: device %d: memory: %v", i, ret)
		}
		g.Memory = mem.Total
		gpus[i] = g
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
