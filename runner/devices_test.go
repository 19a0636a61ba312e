package runner

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"harness/cuda"
	"harness/training"
)

func TestVisible(t *testing.T) {
	all := []GPU{
		{Index: 0, UUID: "GPU-aaaa1111"},
		{Index: 1, UUID: "GPU-bbbb2222"},
		{Index: 2, UUID: "GPU-aaab3333"},
	}
	tests := []struct {
		env  string
		want []int
	}{
		{"", nil},
		{"-1", nil},
		{"0,1,2", []int{0, 1, 2}},
		{"2,0", []int{2, 0}},
		{"1, 0", []int{1, 0}},
		{"0,7,1", []int{0}}, // listing ends at an unknown index
		{"0,0,1", []int{0}}, // and at a repeated one
		{"GPU-bbbb2222", []int{1}},
		{"bbbb", []int{1}}, // a unique prefix
		{"GPU-aaa,1", nil}, // an ambiguous prefix names nothing
		{"GPU-aaab,0", []int{2, 0}},
	}
	for _, tt := range tests {
		var got []int
		for _, g := range visible(all, tt.env) {
			got = append(got, g.Index)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("CUDA_VISIBLE_DEVICES=%q: %v, want %v", tt.env, got, tt.want)
		}
	}
}

// Without libnvidia-ml.so.1, Discover lists no GPU and says why.
func TestDiscoverWithoutNVML(t *testing.T) {
	d := Discover()
	if d.Cores < 1 {
		t.Errorf("%d cores", d.Cores)
	}
	if d.NVMLErr == nil {
		t.Skipf("NVML answered: %d GPUs, driver %s", len(d.GPUs), d.Driver)
	}
	if len(d.GPUs) != 0 {
		t.Errorf("GPUs listed without NVML: %v", d.GPUs)
	}
}

func TestResolveDevice(t *testing.T) {
	missing := CUDA{Err: errors.New("libcuda.so.1 not found (tried: ...): no NVIDIA driver on this machine")}
	h200 := cuda.DeviceInfo{Ordinal: 0, Name: "NVIDIA H200", Major: 9, Minor: 0}
	usable := CUDA{DriverVersion: 13000, NVRTC: "13.0", GPUs: []cuda.DeviceInfo{h200}, Archs: []int{75, 80, 90}}
	tooNew := CUDA{DriverVersion: 13000, NVRTC: "13.0", GPUs: []cuda.DeviceInfo{h200}, Archs: []int{75, 80}}
	none := CUDA{DriverVersion: 13000, NVRTC: "13.0"}
	tests := []struct {
		want      training.Device
		cuda      CUDA
		device    string
		note, err string // substrings; "" for none
	}{
		{training.DeviceCPU, missing, "cpu", "", ""},
		{"", missing, "cpu", "no usable GPU: libcuda.so.1 not found (tried: ...): no NVIDIA driver on this machine; computing on the CPU", ""},
		{training.DeviceAuto, usable, "cpu", "GPU 0 (NVIDIA H200, sm_90) is usable, but the CUDA executor is not built yet; computing on the CPU", ""},
		{training.DeviceCUDA, missing, "", "", `train.device = "cuda": no usable GPU: libcuda.so.1 not found`},
		{training.DeviceCUDA, usable, "", "", "GPU 0 (NVIDIA H200, sm_90) is usable, but the CUDA executor is not built yet"},
		{training.DeviceCUDA, tooNew, "", "", "no usable GPU: GPU 0 (NVIDIA H200): NVRTC 13.0 cannot compile for sm_90"},
		{training.DeviceCUDA, none, "", "", "no usable GPU: the NVIDIA driver (CUDA 13.0) lists no GPU"},
	}
	for _, tt := range tests {
		device, note, err := ResolveDevice(tt.want, tt.cuda)
		if device != tt.device || !strings.Contains(note, tt.note) || (tt.note == "") != (note == "") {
			t.Errorf("%q: device %q, note %q; want %q, %q", tt.want, device, note, tt.device, tt.note)
		}
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%q: error %v, want %q", tt.want, err, tt.err)
		}
	}
}
