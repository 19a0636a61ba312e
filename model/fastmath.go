package model

// #cgo LDFLAGS: -lm
// #include "fastmath.h"
import "C"

// The model's elementwise and row-wise arithmetic on float32 slices, in C
// (fastmath.c): the exact (erf) GELU and its derivative, the softmax by rows
// and its backward pass, LayerNorm by rows and its backward pass. C because
// the compiler vectorises these loops there (16 float or 8 double lanes on
// AVX-512), which Go's does not: the GELU runs fifteen times faster than
// math.Erf in Go, LayerNorm twice as fast as the best scalar Go. Each
// function is compiled for AVX-512, AVX2 and plain x86-64, the loader
// picking one; the arithmetic is IEEE as written, without fused
// multiply-adds, so that every processor gets the same bits.
//
// The formulas (fastmath_test.go checks the functions against package
// math over dense ranges; all are within an ulp of the exact values):
//   - eˣ = 2ⁿ eʳ, n = round(x/ln2), r = x - n ln2, eʳ by a degree-6 minimax
//     polynomial on |r| ≤ ln2/2 (relative error 2.0e-9), in double;
//   - erfc(z) = e^(-z²) t E(t), t = 1/(1+0.3z), E a degree-10 polynomial
//     fitted on z in [0, 10.5] (relative error 5.5e-10), in double; beyond,
//     erfc(z) < 1e-49;
//   - Φ(-|x|) = erfc(|x|/√2)/2 and Φ(|x|) = 1 - Φ(-|x|), accurate relative
//     to its value in the lower tail, and φ(x) = e^(-x²/2)/√(2π);
//   - GELU(x) = x Φ(x), GELU'(x) = Φ(x) + x φ(x);
//   - LayerNorm's mean and (biased) variance are summed in double;
//   - the other sums over a row add 16 interleaved partial sums, then those
//     in order.
// Special values follow the reference's float32 formulas: e^NaN = NaN,
// e^-∞ = 0, e^∞ = ∞; GELU(∞) = ∞, GELU(-∞) = NaN (-∞·0), GELU'(±∞) = NaN;
// NaN gives NaN.

// expInPlace sets v[i] = e^v[i], the softmax's exponential.
func expInPlace(v []float32) {
	if len(v) > 0 {
		C.fm_exp(cfloats(v), C.long(len(v)))
	}
}

// softmaxRows replaces each row of the t×t matrix s by its softmax,
// e^(s - max s) / Σ e^(s - max s).
func softmaxRows(s []float32, t int) {
	C.fm_softmax_rows(cfloats(s[:t*t]), C.long(t), C.long(t))
}

// softmaxBackward turns dA, the gradient of A = softmax(S) by rows, into
// dS = A ∘ (dA - rowsum(dA ∘ A)), in place.
func softmaxBackward(dA, a []float32, t int) {
	C.fm_softmax_backward_rows(cfloats(dA[:t*t]), cfloats(a[:t*t]), C.long(t), C.long(t))
}

// geluSlice sets y[i] = GELU(x[i]) = x[i] Φ(x[i]).
func geluSlice(y, x []float32) {
	if len(x) > 0 {
		C.fm_gelu(cfloats(y[:len(x)]), cfloats(x), C.long(len(x)))
	}
}

// geluGradSlice sets dx[i] = dy[i] GELU'(x[i]) = dy[i] (Φ(x[i]) + x[i] φ(x[i])).
func geluGradSlice(dx, dy, x []float32) {
	if len(x) > 0 {
		C.fm_gelu_backward(cfloats(dx[:len(x)]), cfloats(dy[:len(x)]), cfloats(x), C.long(len(x)))
	}
}

// layerNormRows sets y = (x - mean) rstd γ + β on each row of width w of x,
// rstd = 1/sqrt(var + eps).
func layerNormRows(y, x, gamma, beta []float32, w int, eps float32) {
	if rows := len(x) / w; rows > 0 {
		C.fm_layer_norm_rows(cfloats(y[:len(x)]), cfloats(x), cfloats(gamma[:w]), cfloats(beta[:w]), C.long(rows), C.long(w), C.float(eps))
	}
}

// layerNormGradRows sets, on each row of width w, with x̂ = (x - mean) rstd
// and g = dy γ, dx = rstd (g - mean(g) - x̂ mean(g x̂)), and adds dy x̂ to pg
// and dy to pb.
func layerNormGradRows(dx, pg, pb, x, dy, gamma []float32, w int, eps float32) {
	if rows := len(x) / w; rows > 0 {
		C.fm_layer_norm_backward_rows(cfloats(dx[:len(x)]), cfloats(pg[:w]), cfloats(pb[:w]), cfloats(x), cfloats(dy[:len(x)]),
			cfloats(gamma[:w]), C.long(rows), C.long(w), C.float(eps))
	}
}

// cfloats is the address of a slice's first element, for C.
func cfloats(s []float32) *C.float { return (*C.float)(&s[0]) }
