package training

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDeviceValidate(t *testing.T) {
	for _, d := range []Device{"", DeviceAuto, DeviceCPU, DeviceCUDA} {
		c := DefaultConfig()
		c.Device = d
		if err := c.Validate(); err != nil {
			t.Errorf("train.device %q: %v", d, err)
		}
	}
	for _, d := range []Device{"gpu", "CUDA", "cuda:0"} {
		c := DefaultConfig()
		c.Device = d
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), "train.device: ") || !strings.Contains(err.Error(), string(d)) {
			t.Errorf("train.device %q: %v, want an error naming the key and the value", d, err)
		}
	}
}

// TestDeviceJSON: auto, the default, stays out of a run's JSON form, so
// that the hashes of runs made before train.device existed do not change.
func TestDeviceJSON(t *testing.T) {
	for _, tt := range []struct {
		d    Device
		want string // in the JSON, "" for absent
	}{{"", ""}, {DeviceAuto, ""}, {DeviceCPU, `"device":"cpu"`}, {DeviceCUDA, `"device":"cuda"`}} {
		c := DefaultConfig()
		c.Device = tt.d
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if tt.want == "" && strings.Contains(s, "device") || tt.want != "" && !strings.Contains(s, tt.want) {
			t.Errorf("train.device %q: JSON %s, want %q", tt.d, s, tt.want)
		}
		var back Config
		if err := json.Unmarshal(b, &back); err != nil || back.Device.Name() != tt.d.Name() {
			t.Errorf("train.device %q: read back as %q, %v", tt.d, back.Device, err)
		}
	}
}
