package runner

import (
	"encoding/json"
	"math"
	"testing"
)

func TestFloatRoundTrip(t *testing.T) {
	for _, x := range []float64{0, 1.5, -2.25e-300, math.MaxFloat64, 0.1 + 0.2, math.Inf(1), math.Inf(-1), math.NaN()} {
		b, err := json.Marshal(Event{Event: EventMetrics, Step: 3, Values: map[string]Float{"k": Float(x)}})
		if err != nil {
			t.Fatalf("%v: %v", x, err)
		}
		var e Event
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		got := float64(e.Values["k"])
		if math.Float64bits(got) != math.Float64bits(x) && !(math.IsNaN(got) && math.IsNaN(x)) {
			t.Errorf("%v came back as %v (%s)", x, got, b)
		}
	}
	var f Float
	if err := json.Unmarshal([]byte(`"lots"`), &f); err == nil {
		t.Error(`"lots" read as a number`)
	}
}
