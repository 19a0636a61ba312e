package model

// #cgo LDFLAGS: -lopenblas
// int openblas_get_num_threads(void);
// void openblas_set_num_threads(int);
import "C"

import (
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"

	"harness/internal/parallel"
)

// The cgo directive above links OpenBLAS (Debian's libopenblas-dev), so that
// `go build` needs no CGO_LDFLAGS. Every matrix product of the model, ours and
// gorgonia's, goes through it.

var impl netlib.Implementation

// OpenBLAS computes on the calling thread only: gemm splits large products
// over the processors itself, and the small per-head products run inside
// parallel loops already. OpenBLAS's own threads, which spin (sched_yield)
// between calls, would take the cores from those loops.
func init() {
	G.Use(impl)
	C.openblas_set_num_threads(1)
}

// blasThreads is the number of threads OpenBLAS computes on.
func blasThreads() int { return int(C.openblas_get_num_threads()) }

// gemm computes c = alpha*op(a)*op(b) + beta*c for dense row-major
// matrices, where op(a) is m×k and op(b) is k×n; ta and tb transpose a and b.
func gemm(ta, tb bool, m, n, k int, alpha float32, a, b []float32, beta float32, c []float32) {
	lda, ldb := k, n
	if ta {
		lda = m
	}
	if tb {
		ldb = k
	}
	gemmStrided(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, n)
}

// Products of at least gemmSplitWork multiply-adds are split into bands of
// rows of c, which the processors share: at most gemmBands bands, each
// at least gemmMinBand rows and a multiple of 16 (OpenBLAS's tile height),
// the last one shorter. The bands depend on the product's shape alone, not
// on the thread count: OpenBLAS gives an element of c other low bits in a
// band of another height (its kernels for small and edge blocks add in
// other orders), so bands that followed the threads would make a run's
// numbers depend on them. Each call packs the whole of op(b) again: on
// the products of `harness bench` with the ViT, bands so chosen cost about
// 2% over one band per thread, on one thread and on two. From 2304 rows
// on there are 24 bands, shared out evenly on 2, 3, 4, 6, 8 or 12 threads.
const (
	gemmSplitWork = 1 << 21
	gemmBands     = 24
	gemmMinBand   = 96
)

// gemmBand is the height of the bands a product with m rows is split into.
func gemmBand(m int) int {
	return max(gemmMinBand, ((m+gemmBands-1)/gemmBands+15)/16*16)
}

// gemmStrided is gemm on matrices whose rows lie lda, ldb and ldc elements
// apart, such as one head's columns of a token matrix.
func gemmStrided(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if m*n*k < gemmSplitWork {
		sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	parallel.Chunks(m, gemmBand(m), func(r0, r1 int) {
		var ar []float32 // rows r0… of op(a)
		if ta {
			ar = a[r0:]
		} else {
			ar = a[r0*lda:]
		}
		sgemm(ta, tb, r1-r0, n, k, alpha, ar, lda, b, ldb, beta, c[r0*ldc:], ldc)
	})
}

// sgemm is one OpenBLAS call of gemmStrided.
func sgemm(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	opA, opB := blas.NoTrans, blas.NoTrans
	if ta {
		opA = blas.Trans
	}
	if tb {
		opB = blas.Trans
	}
	impl.Sgemm(opA, opB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// sumRowsBand is the number of columns of each of sumRows's OpenBLAS
// calls: fixed, for the reason gemmBand is.
const sumRowsBand = 16

// sumRows sets dst[j] = Σ_r m[r, j] for an r×n matrix m: dst = mᵀ·1, in
// parallel over bands of sumRowsBand columns.
func sumRows(dst, m []float32, rows, n int) {
	one := ones(rows)
	parallel.Chunks(n, sumRowsBand, func(c0, c1 int) {
		impl.Sgemv(blas.Trans, rows, c1-c0, 1, m[c0:], n, one, 1, 0, dst[c0:c1], 1)
	})
}

// onesVec holds the longest vector of ones asked for yet.
var onesVec struct {
	sync.Mutex
	v []float32
}

// ones returns n ones, shared: callers only read them.
func ones(n int) []float32 {
	onesVec.Lock()
	defer onesVec.Unlock()
	if len(onesVec.v) < n {
		onesVec.v = make([]float32, n)
		for i := range onesVec.v {
			onesVec.v[i] = 1
		}
	}
	return onesVec.v[:n]
}
