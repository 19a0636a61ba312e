// The model's elementwise and row-wise arithmetic on float32 arrays (see
// fastmath.go, which documents the formulas and their accuracy), written
// for the compiler to vectorise: no branches, only selects, and sums in a
// fixed number of lanes. Each exported function is compiled for AVX-512,
// for AVX2 and for plain x86-64, and the loader picks the one the processor
// runs.

#include <math.h>
#include <stdint.h>
#include <string.h>

// IEEE arithmetic as written: no reassociation and no fused multiply-add,
// so that every processor gets the same bits. Only selects may evaluate
// both arms, which is what lets the loops vectorise (cgo accepts none of
// these as flags).
#pragma GCC optimize("O3", "no-trapping-math", "no-math-errno", "fp-contract=off")

#include "fastmath.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define VECTORISED __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VECTORISED // one build, for the compiler's default target
#endif

// e^r ≈ 1 + c1 r + … + c6 r⁶ on |r| ≤ ln2/2 (relative error 2.0e-9).
#define EXP1 1.0000000321663653
#define EXP2 0.49999994208775933
#define EXP3 0.16666431258303
#define EXP4 0.04166800207358204
#define EXP5 0.008374155595160516
#define EXP6 0.0013843652358995408

// Added to a double below 2^51 in magnitude, EXP_SHIFT rounds it to an
// integer n held in the low mantissa bits as n+1023.
#define EXP_SHIFT (0x1.8p52 + 1023)

// exp_approx is e^x = 2^n e^r, n = round(x/ln2), r = x - n ln2, for x in
// [-708, 709].
static inline double exp_approx(double x) {
	double k = x * M_LOG2E + EXP_SHIFT;
	double n = k - EXP_SHIFT;
	double r = x - n * M_LN2;
	double e = 1 + r * (EXP1 + r * (EXP2 + r * (EXP3 + r * (EXP4 + r * (EXP5 + r * EXP6)))));
	uint64_t bits;
	memcpy(&bits, &k, sizeof bits);
	bits <<= 52; // 2^n
	double scale;
	memcpy(&scale, &bits, sizeof scale);
	return e * scale;
}

// E(t) ≈ erfc(z) e^(z²)/t, t = 1/(1+0.3z), on z in [0, ERFC_MAX] (relative
// error 5.5e-10).
#define ERFC0 0.16927842211999997
#define ERFC1 0.16874640656086137
#define ERFC2 0.1670046192085776
#define ERFC3 0.11343237407056111
#define ERFC4 0.25612442832342325
#define ERFC5 -0.2582633533857714
#define ERFC6 0.7361801603553957
#define ERFC7 -0.8035701278715087
#define ERFC8 0.7209936166014644
#define ERFC9 -0.32425653657372866
#define ERFC10 0.05432999003931809
#define ERFC_MAX 10.5

// erfc_scaled is erfc(z) e^(z²) = t E(t) for z in [0, ERFC_MAX].
static inline double erfc_scaled(double z) {
	double t = 1 / (1 + 0.3 * z);
	double e = ERFC0 + t * (ERFC1 + t * (ERFC2 + t * (ERFC3 + t * (ERFC4 + t * (ERFC5 +
	           t * (ERFC6 + t * (ERFC7 + t * (ERFC8 + t * (ERFC9 + t * ERFC10)))))))));
	return t * e;
}

// norm_cdf_pdf sets Φ(x) and φ(x) = e^(-x²/2)/√(2π): with z = |x|/√2,
// Φ(-|x|) = e^(-z²) erfc_scaled(z)/2 and Φ(|x|) = 1 - Φ(-|x|); beyond
// |x| = ERFC_MAX·√2 the tail and φ are 0. NaN gives NaN through the
// products with x that use them.
static inline void norm_cdf_pdf(double x, double *cdf, double *pdf) {
	double z = fabs(x) * M_SQRT1_2;
	z = z < ERFC_MAX ? z : ERFC_MAX;
	double g = exp_approx(-z * z);
	double tail = 0.5 * g * erfc_scaled(z);
	int far = fabs(x) > ERFC_MAX * M_SQRT2;
	tail = far ? 0 : tail;
	g = far ? 0 : g;
	*cdf = x < 0 ? tail : 1 - tail;
	*pdf = g * (1 / sqrt(2 * M_PI));
}

// exp_f32 is e^x rounded to float: 0 below -104 (where e^x rounds to 0),
// ∞ above 89, NaN for NaN.
static inline float exp_f32(float x) {
	float e = (float)exp_approx(x < -104.0f ? -104.0f : x < 89.0f ? x : 89.0f);
	return x != x ? x : x > 89.0f ? INFINITY : e;
}

// Sums over a row add LANES interleaved partial sums, then those in order:
// the same bits whether the compiler vectorises the loop or not.
#define LANES 16

// row_sum is Σ v[j].
static inline float row_sum(const float *v, long n) {
	float acc[LANES] = {0};
	long j = 0;
	for (; j + LANES <= n; j += LANES)
		for (int l = 0; l < LANES; l++)
			acc[l] += v[j + l];
	for (int l = 0; j < n; j++, l++)
		acc[l] += v[j];
	float s = 0;
	for (int l = 0; l < LANES; l++)
		s += acc[l];
	return s;
}

// row_dot is Σ u[j] v[j].
static inline float row_dot(const float *u, const float *v, long n) {
	float acc[LANES] = {0};
	long j = 0;
	for (; j + LANES <= n; j += LANES)
		for (int l = 0; l < LANES; l++)
			acc[l] += u[j + l] * v[j + l];
	for (int l = 0; j < n; j++, l++)
		acc[l] += u[j] * v[j];
	float s = 0;
	for (int l = 0; l < LANES; l++)
		s += acc[l];
	return s;
}

// row_max is max v[j] (NaNs skipped; the exponentials turn them to NaN).
static inline float row_max(const float *v, long n) {
	float acc[LANES];
	for (int l = 0; l < LANES; l++)
		acc[l] = -INFINITY;
	long j = 0;
	for (; j + LANES <= n; j += LANES)
		for (int l = 0; l < LANES; l++)
			acc[l] = v[j + l] > acc[l] ? v[j + l] : acc[l];
	for (int l = 0; j < n; j++, l++)
		acc[l] = v[j] > acc[l] ? v[j] : acc[l];
	float m = acc[0];
	for (int l = 1; l < LANES; l++)
		m = acc[l] > m ? acc[l] : m;
	return m;
}

// row_sum64 is Σ (v[j] - c) in double.
static inline double row_sum64(const float *v, long n, double c) {
	double acc[LANES] = {0};
	long j = 0;
	for (; j + LANES <= n; j += LANES)
		for (int l = 0; l < LANES; l++)
			acc[l] += v[j + l] - c;
	for (int l = 0; j < n; j++, l++)
		acc[l] += v[j] - c;
	double s = 0;
	for (int l = 0; l < LANES; l++)
		s += acc[l];
	return s;
}

// row_sumsq64 is Σ (v[j] - c)² in double.
static inline double row_sumsq64(const float *v, long n, double c) {
	double acc[LANES] = {0};
	long j = 0;
	for (; j + LANES <= n; j += LANES)
		for (int l = 0; l < LANES; l++) {
			double d = v[j + l] - c;
			acc[l] += d * d;
		}
	for (int l = 0; j < n; j++, l++) {
		double d = v[j] - c;
		acc[l] += d * d;
	}
	double s = 0;
	for (int l = 0; l < LANES; l++)
		s += acc[l];
	return s;
}

// moments sets the mean and 1/sqrt(var + eps) of a row, the variance
// biased, summed in double.
static inline void moments(const float *x, long w, float eps, float *mean, float *rstd) {
	double m = row_sum64(x, w, 0) / w;
	double var = row_sumsq64(x, w, m) / w;
	*mean = (float)m;
	*rstd = (float)(1 / sqrt(var + eps));
}

// fm_layer_norm_rows sets y = (x - mean) rstd γ + β on each row of width w.
VECTORISED void fm_layer_norm_rows(float *restrict y, const float *restrict x, const float *restrict gamma,
                                   const float *restrict beta, long rows, long w, float eps) {
	for (long r = 0; r < rows; r++) {
		const float *xr = x + r * w;
		float *yr = y + r * w;
		float mean, rstd;
		moments(xr, w, eps, &mean, &rstd);
		for (long j = 0; j < w; j++)
			yr[j] = (xr[j] - mean) * rstd * gamma[j] + beta[j];
	}
}

// fm_layer_norm_backward_rows sets, on each row, with x̂ = (x - mean) rstd
// and g = dy γ, dx = rstd (g - mean(g) - x̂ mean(g x̂)), and adds dy x̂ to
// pg and dy to pb (the row's parts of dγ and dβ).
VECTORISED void fm_layer_norm_backward_rows(float *restrict dx, float *restrict pg, float *restrict pb,
                                            const float *restrict x, const float *restrict dy,
                                            const float *restrict gamma, long rows, long w, float eps) {
	for (long r = 0; r < rows; r++) {
		const float *xr = x + r * w, *dyr = dy + r * w;
		float *dxr = dx + r * w;
		float mean, rstd;
		moments(xr, w, eps, &mean, &rstd);
		float sg[LANES] = {0}, sgx[LANES] = {0};
		long j = 0;
		for (; j + LANES <= w; j += LANES)
			for (int l = 0; l < LANES; l++) {
				float xhat = (xr[j + l] - mean) * rstd, g = dyr[j + l] * gamma[j + l];
				sg[l] += g;
				sgx[l] += g * xhat;
			}
		for (int l = 0; j < w; j++, l++) {
			float xhat = (xr[j] - mean) * rstd, g = dyr[j] * gamma[j];
			sg[l] += g;
			sgx[l] += g * xhat;
		}
		float mg = 0, mgx = 0;
		for (int l = 0; l < LANES; l++) {
			mg += sg[l];
			mgx += sgx[l];
		}
		mg /= w;
		mgx /= w;
		for (j = 0; j < w; j++) {
			float xhat = (xr[j] - mean) * rstd;
			dxr[j] = rstd * (dyr[j] * gamma[j] - mg - xhat * mgx);
			pg[j] += dyr[j] * xhat;
			pb[j] += dyr[j];
		}
	}
}

// fm_exp sets v = e^v.
VECTORISED void fm_exp(float *v, long n) {
	for (long i = 0; i < n; i++)
		v[i] = exp_f32(v[i]);
}

// fm_softmax_rows replaces each row s of a rows×t matrix by
// e^(s - max s) / Σ e^(s - max s).
VECTORISED void fm_softmax_rows(float *s, long rows, long t) {
	for (long r = 0; r < rows; r++) {
		float *row = s + r * t;
		float m = row_max(row, t);
		for (long j = 0; j < t; j++)
			row[j] = exp_f32(row[j] - m);
		float inv = 1 / row_sum(row, t);
		for (long j = 0; j < t; j++)
			row[j] *= inv;
	}
}

// fm_softmax_backward_rows turns each row of dA, the gradient of A =
// softmax(S) by rows, into dS = A ∘ (dA - Σ dA ∘ A), in place.
VECTORISED void fm_softmax_backward_rows(float *restrict da, const float *restrict a, long rows, long t) {
	for (long r = 0; r < rows; r++) {
		float *d = da + r * t;
		const float *ar = a + r * t;
		float dot = row_dot(ar, d, t);
		for (long j = 0; j < t; j++)
			d[j] = ar[j] * (d[j] - dot);
	}
}

// fm_gelu sets y = x Φ(x).
VECTORISED void fm_gelu(float *restrict y, const float *restrict x, long n) {
	for (long i = 0; i < n; i++) {
		double v = x[i], cdf, pdf;
		norm_cdf_pdf(v, &cdf, &pdf);
		y[i] = (float)(v * cdf);
	}
}

// fm_gelu_backward sets dx = dy (Φ(x) + x φ(x)).
VECTORISED void fm_gelu_backward(float *restrict dx, const float *restrict dy, const float *restrict x, long n) {
	for (long i = 0; i < n; i++) {
		double v = x[i], cdf, pdf;
		norm_cdf_pdf(v, &cdf, &pdf);
		dx[i] = dy[i] * (float)(cdf + v * pdf);
	}
}
