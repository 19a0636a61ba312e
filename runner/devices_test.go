package runner

import (
	"slices"
	"testing"
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
