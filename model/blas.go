package model

// #cgo LDFLAGS: -lopenblas
import "C"

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

// The cgo directive above links OpenBLAS (Debian's libopenblas-dev), so that
// `go build` needs no CGO_LDFLAGS. Every matrix product of the model, ours and
// gorgonia's, goes through it.

var impl netlib.Implementation

func init() { G.Use(impl) }

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

// gemmStrided is gemm on matrices whose rows lie lda, ldb and ldc elements
// apart, such as one head's columns of a token matrix.
func gemmStrided(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	opA, opB := blas.NoTrans, blas.NoTrans
	if ta {
		opA = blas.Trans
	}
	if tb {
		opB = blas.Trans
	}
	impl.Sgemm(opA, opB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
