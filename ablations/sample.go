package ablations

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
)

// SampleDigits is the number of significant digits a sampled float keeps,
// so that run names stay readable.
const SampleDigits = 4

// MaxSampleCount is the most values one sampled axis may draw.
const MaxSampleCount = 1000

// sampleKeys are the keys of a table of sampled values.
var sampleKeys = []string{"count", "int_uniform", "log_uniform", "seed", "uniform"}

// sample draws the values of an axis of key from spec, a table such as
// { log_uniform = [1e-4, 1e-2], count = 8 }, with the seed of the table or
// else seed, the experiment's first. The values come as TOML decodes them
// (float64 or int64), sorted ascending. Errors begin with what.
//
// The generator is math/rand/v2's PCG (PCG-DXSM, 128 bits of state),
// seeded with (seed, FNV-1a-64 of key), so that two axes of one seed draw
// different values; only its raw Uint64 outputs are used, turned into
// values by the arithmetic below, so that a Go release cannot change them:
//
//   - uniform [a, b]: u = (x >> 11) · 2⁻⁵³ in [0, 1); a + u·(b − a);
//   - log_uniform [a, b]: exp(ln a + u·(ln b − ln a));
//   - int_uniform [a, b]: n = b − a + 1; x is drawn again while
//     x ≥ ⌊2⁶⁴/n⌋·n; a + x mod n, both bounds included.
//
// Floats are rounded to SampleDigits significant digits (and may so land on
// a bound, or just past one written with more digits); integers are kept
// as drawn. A value equal to one drawn before is drawn again, up to 100
// draws per value asked for; int_uniform refuses a count over the integers
// of its range.
func sample(key string, spec map[string]any, seed uint64, what string) ([]any, error) {
	what += ": values"
	if err := known(spec, what, sampleKeys...); err != nil {
		return nil, err
	}
	var dist string
	for _, d := range []string{"uniform", "log_uniform", "int_uniform"} {
		if _, ok := spec[d]; ok {
			if dist != "" {
				return nil, fmt.Errorf("%s: both %s and %s; give one distribution", what, dist, d)
			}
			dist = d
		}
	}
	if dist == "" {
		return nil, fmt.Errorf("%s: %s: want a distribution: uniform, log_uniform or int_uniform = [LOW, HIGH]", what, show(spec))
	}
	count, err := sampleInt(spec, what, "count", -1)
	if err != nil {
		return nil, err
	}
	if count < 1 || count > MaxSampleCount {
		return nil, fmt.Errorf("%s: count = %d: want an integer from 1 to %d", what, count, MaxSampleCount)
	}
	s, err := sampleInt(spec, what, "seed", int64(seed))
	if err != nil {
		return nil, err
	}
	if s < 0 {
		return nil, fmt.Errorf("%s: seed = %d: want an integer >= 0", what, s)
	}
	t, _, err := lookup(key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	isInt, isFloat := false, false
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		isInt = true
	case reflect.Float32, reflect.Float64:
		isFloat = true
	}
	switch {
	case !isInt && !isFloat:
		return nil, fmt.Errorf("%s: %s takes %s; only integer and float keys can be sampled", what, key, want(t))
	case isInt && dist != "int_uniform":
		return nil, fmt.Errorf("%s: %s draws floats, and %s is an integer key: use int_uniform", what, dist, key)
	case isFloat && dist == "int_uniform":
		return nil, fmt.Errorf("%s: int_uniform draws integers, and %s is a float key: use uniform or log_uniform", what, key)
	}
	bounds, ok := spec[dist].([]any)
	if !ok || len(bounds) != 2 {
		return nil, fmt.Errorf("%s: %s = %s: want [LOW, HIGH], two numbers", what, dist, show(spec[dist]))
	}
	src := rand.NewPCG(uint64(s), fnv64a(key))
	if dist == "int_uniform" {
		lo, okLo := bounds[0].(int64)
		hi, okHi := bounds[1].(int64)
		if !okLo || !okHi {
			return nil, fmt.Errorf("%s: int_uniform = %s: want [LOW, HIGH], two integers", what, show(spec[dist]))
		}
		if lo >= hi {
			return nil, fmt.Errorf("%s: int_uniform = %s: low %d is not below high %d", what, show(spec[dist]), lo, hi)
		}
		if n := uint64(hi - lo); n < math.MaxUint64 && uint64(count) > n+1 {
			return nil, fmt.Errorf("%s: count = %d: int_uniform = %s holds only %d integers", what, count, show(spec[dist]), n+1)
		}
		return draw(count, what, func() any { return intUniform(src, lo, hi) })
	}
	var lh [2]float64
	for i, b := range bounds {
		switch b := b.(type) {
		case int64:
			lh[i] = float64(b)
		case float64:
			lh[i] = b
		default:
			return nil, fmt.Errorf("%s: %s = %s: %s is not a number", what, dist, show(spec[dist]), show(b))
		}
		if math.IsInf(lh[i], 0) || math.IsNaN(lh[i]) {
			return nil, fmt.Errorf("%s: %s = %s: want finite bounds", what, dist, show(spec[dist]))
		}
	}
	lo, hi := lh[0], lh[1]
	if lo >= hi {
		return nil, fmt.Errorf("%s: %s = %s: low %v is not below high %v", what, dist, show(spec[dist]), lo, hi)
	}
	if dist == "log_uniform" {
		if lo <= 0 {
			return nil, fmt.Errorf("%s: log_uniform = %s: the bounds must be > 0 (the log of %v is not a number)", what, show(spec[dist]), lo)
		}
		return draw(count, what, func() any { return round(logUniform(src, lo, hi)) })
	}
	return draw(count, what, func() any { return round(uniform(src, lo, hi)) })
}

// sampleInt returns the integer spec holds under key, or def when it
// holds none (-1 for a required key).
func sampleInt(spec map[string]any, what, key string, def int64) (int64, error) {
	v, ok := spec[key]
	if !ok {
		if def < 0 {
			return 0, fmt.Errorf("%s: %s: required, the number of values to draw", what, key)
		}
		return def, nil
	}
	n, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("%s: %s = %s: %s is %s, want an integer", what, key, show(v), show(v), describe(v))
	}
	return n, nil
}

// draw calls next until it has count distinct values, and returns them
// sorted ascending.
func draw(count int64, what string, next func() any) ([]any, error) {
	var values []any
	seen := map[any]bool{}
	for tries := int64(0); int64(len(values)) < count; tries++ {
		if tries == 100*count {
			return nil, fmt.Errorf("%s: no %d distinct values in %d draws at %d significant digits; ask for fewer or widen the range", what, count, tries, SampleDigits)
		}
		v := next()
		if !seen[v] {
			seen[v] = true
			values = append(values, v)
		}
	}
	slices.SortFunc(values, func(a, b any) int {
		if x, ok := a.(int64); ok {
			return cmp.Compare(x, b.(int64))
		}
		return cmp.Compare(a.(float64), b.(float64))
	})
	return values, nil
}

// unit is a float in [0, 1) from the top 53 bits of a raw output.
func unit(src *rand.PCG) float64 { return float64(src.Uint64()>>11) * 0x1p-53 }

func uniform(src *rand.PCG, lo, hi float64) float64 { return lo + unit(src)*(hi-lo) }

func logUniform(src *rand.PCG, lo, hi float64) float64 {
	a, b := math.Log(lo), math.Log(hi)
	return math.Exp(a + unit(src)*(b-a))
}

// intUniform is an integer in [lo, hi], both included, without bias:
// outputs at or above the largest multiple of the range's size are drawn
// again.
func intUniform(src *rand.PCG, lo, hi int64) int64 {
	n := uint64(hi-lo) + 1
	if n == 0 { // the whole int64 range
		return int64(src.Uint64())
	}
	limit := math.MaxUint64 - (math.MaxUint64%n+1)%n // the largest x with x+1 a multiple of n
	for {
		if x := src.Uint64(); x <= limit {
			return lo + int64(x%n)
		}
	}
}

// round keeps SampleDigits significant digits of v.
func round(v float64) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', SampleDigits, 64), 64)
	if err != nil {
		panic(err) // FormatFloat writes what ParseFloat reads
	}
	return r
}

// fnv64a is the FNV-1a 64-bit hash of s.
func fnv64a(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
