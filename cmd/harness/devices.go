package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"harness/cuda"
	"harness/runner"
	"harness/training"
)

func newDevicesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "devices",
		Short: "List the CPU and GPUs found, and whether runs can compute on them",
		Long: `Lists the cores and the NVIDIA GPUs that CUDA_VISIBLE_DEVICES leaves visible,
found through NVML (libnvidia-ml.so.1) and through CUDA: the driver API
(libcuda.so.1), NVRTC (libnvrtc.so.N) and cuBLAS (libcublasLt.so.N,
libcublas.so.N), loaded at run time from $HARNESS_CUDA_LIB_DIR (a
colon-separated list of directories), /usr/local/cuda/targets/x86_64-linux/lib,
/usr/local/cuda/lib64, then the dynamic loader's search.

For each GPU it says whether CUDA works on it, or exactly why not: which
library was missing at which paths, a driver older than CUDA 12.0, an
architecture NVRTC cannot compile for. This build has no CUDA executor yet,
so runs compute on the CPU even where CUDA works.`,
		Example: `  harness devices
  CUDA_VISIBLE_DEVICES=1 harness devices
  HARNESS_CUDA_LIB_DIR=/opt/cuda/lib harness devices`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			printDevices(cmd.OutOrStdout(), runner.Discover(), runner.ProbeCUDA())
			return nil
		},
	}
}

// printDevices writes the devices report.
func printDevices(w io.Writer, d runner.Devices, c runner.CUDA) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "device\tname\tmemory\tusable")
	fmt.Fprintf(tw, "cpu\t%d cores\t\tyes: runs use CPU slots\n", d.Cores)
	listed := map[string]bool{}
	for _, g := range d.GPUs {
		info, found := cudaDevice(c, g.UUID)
		listed[g.UUID] = found
		fmt.Fprintf(tw, "gpu %d\t%s (%s)\t%.1f GiB\t%s\n", g.Index, g.Name, g.UUID, gib(g.Memory), gpuVerdict(c, info, found))
	}
	for _, g := range c.GPUs { // those NVML did not list
		if !listed[g.UUID] {
			fmt.Fprintf(tw, "cuda %d\t%s (%s)\t%.1f GiB\t%s\n", g.Ordinal, g.Name, g.UUID, gib(g.TotalMemory), gpuVerdict(c, g, true))
		}
	}
	tw.Flush()
	switch {
	case d.NVMLErr != nil:
		fmt.Fprintf(w, "NVML: no GPU listed (%v)\n", d.NVMLErr)
	case len(d.GPUs) == 0 && d.Hidden == 0:
		fmt.Fprintf(w, "NVML: no GPU found (NVIDIA driver %s)\n", d.Driver)
	default:
		fmt.Fprintf(w, "NVML: NVIDIA driver %s", d.Driver)
		if d.Hidden > 0 {
			fmt.Fprintf(w, "; %d hidden by CUDA_VISIBLE_DEVICES=%q", d.Hidden, os.Getenv("CUDA_VISIBLE_DEVICES"))
		}
		fmt.Fprintln(w)
	}
	if c.Err != nil {
		fmt.Fprintf(w, "CUDA: not usable: %v\n", c.Err)
	} else {
		fmt.Fprintf(w, "CUDA: driver CUDA %s, NVRTC %s, %d GPU(s); libraries %s\n",
			cuda.VersionString(c.DriverVersion), c.NVRTC, len(c.GPUs), strings.Join(c.Libraries, ", "))
	}
	fmt.Fprintf(w, "compute: %s\n", runner.Compute)
}

// cudaDevice finds the CUDA device of the given UUID.
func cudaDevice(c runner.CUDA, uuid string) (cuda.DeviceInfo, bool) {
	for _, g := range c.GPUs {
		if g.UUID == uuid {
			return g, true
		}
	}
	return cuda.DeviceInfo{}, false
}

// gpuVerdict says whether runs can compute on a GPU, and why not.
func gpuVerdict(c runner.CUDA, g cuda.DeviceInfo, found bool) string {
	switch {
	case c.Err != nil:
		return "no: " + c.Err.Error()
	case !found:
		return "no: CUDA does not list it"
	}
	if err := c.Unusable(g); err != nil {
		return "no: " + err.Error()
	}
	if !runner.GPUExecutor {
		return fmt.Sprintf("no: CUDA works on it (%s, %.1f GiB free), but the CUDA executor is not built yet", g.Arch(), gib(g.FreeMemory))
	}
	return fmt.Sprintf("yes: %s, %.1f GiB free", g.Arch(), gib(g.FreeMemory))
}

// gib writes bytes in GiB.
func gib(bytes uint64) float64 { return float64(bytes) / (1 << 30) }

// resolveDevices checks the train.device of work about to start, before
// anything runs: "cuda" is an error naming the library or driver at fault
// (or, with a usable GPU, saying that the CUDA executor is not built yet);
// "auto" gives a note saying why the work computes on the CPU. CUDA is
// loaded only when some device is not "cpu"; it returns what it found.
func resolveDevices(devices []training.Device) (note string, c runner.CUDA, err error) {
	var probed bool
	for _, d := range devices {
		if d.Name() == training.DeviceCPU || !slices.Contains(training.Devices, d.Name()) {
			continue // the CPU, or a value validation reports
		}
		if !probed {
			c, probed = runner.ProbeCUDA(), true
		}
		_, n, err := runner.ResolveDevice(d, c)
		if err != nil {
			return "", c, err
		}
		note = cmp.Or(note, n)
	}
	return note, c, nil
}

// trainDevices lists the train.device of each job.
func trainDevices(jobs []runner.Job) []training.Device {
	ds := make([]training.Device, len(jobs))
	for i, j := range jobs {
		ds[i] = j.Run.Spec.Train.Device
	}
	return ds
}

// placeRuns places the jobs on the devices this build computes on: the
// usable GPUs once the CUDA executor exists, the CPU until then.
func placeRuns(jobs []runner.Job, c runner.CUDA, runsPerGPU, workers int) runner.Placement {
	var gpus []runner.GPU
	if runner.GPUExecutor {
		gpus = c.SlotGPUs(runner.Discover())
	}
	if workers == 0 {
		workers = runner.DefaultWorkers(jobs, runtime.NumCPU())
	}
	return runner.PlaceJobs(jobs, gpus, runner.PlaceOptions{RunsPerGPU: runsPerGPU, CPUWorkers: workers})
}

// printSlots says how many runs each device takes at once, and why the
// runs compute where they do.
func printSlots(w io.Writer, p runner.Placement, note string) {
	var parts []string
	for _, d := range slices.Sorted(maps.Keys(p.Slots)) {
		parts = append(parts, fmt.Sprintf("%s %d", d, p.Slots[d]))
	}
	fmt.Fprintf(w, "runs at once: %s\n", strings.Join(parts, ", "))
	if note != "" {
		fmt.Fprintln(w, note)
	}
}
