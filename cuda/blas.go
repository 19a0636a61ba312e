package cuda

/*
#include "shim.h"
*/
import "C"

import "fmt"

// MathMode says how cuBLAS multiplies single-precision matrices.
type MathMode int

const (
	// FP32 is exact single precision: no tensor-core shortcuts, the mode
	// for parity with the CPU.
	FP32 MathMode = iota
	// TF32 rounds the inputs of products to TF32 (10-bit mantissa) on the
	// tensor cores, accumulating in single precision.
	TF32
)

// cuBLAS enumerations used.
const (
	cublasDefaultMath        = 0  // CUBLAS_DEFAULT_MATH
	cublasTF32TensorOpMath   = 3  // CUBLAS_TF32_TENSOR_OP_MATH
	cublasAtomicsNotAllowed  = 0  // CUBLAS_ATOMICS_NOT_ALLOWED
	cublasPointerModeHost    = 0  // CUBLAS_POINTER_MODE_HOST
	cublasCompute32F         = 68 // CUBLAS_COMPUTE_32F
	cublasCompute32FFastTF32 = 77 // CUBLAS_COMPUTE_32F_FAST_TF32
	cublasOpN, cublasOpT     = 0, 1
)

// A BLAS is a cuBLAS handle bound to one stream.
//
// It is deterministic: with one stream per handle, atomics not allowed and
// the default algorithm, cuBLAS gives the same bits on the same GPU
// model and library version for the same call.
type BLAS struct {
	c       *Context
	h       C.cublasHandle_t
	mode    MathMode
	compute C.int
}

// NewBLAS creates a cuBLAS handle that queues its work on s, multiplying in
// mode.
func (c *Context) NewBLAS(s *Stream, mode MathMode) (*BLAS, error) {
	b := &BLAS{c: c, mode: mode, compute: cublasCompute32F}
	math := C.int(cublasDefaultMath)
	if mode == TF32 {
		b.compute, math = cublasCompute32FFastTF32, cublasTF32TensorOpMath
	}
	lib := c.r.b
	err := c.do(func(*driver) error {
		if err := lib.check("cublasCreate_v2", C.h_cublasCreate(lib.cublasCreate, &b.h)); err != nil {
			return err
		}
		for _, set := range []struct {
			name string
			f    ptr
			v    C.int
		}{
			{"cublasSetMathMode", lib.cublasSetMathMode, math},
			{"cublasSetAtomicsMode", lib.cublasSetAtomicsMode, cublasAtomicsNotAllowed},
			{"cublasSetPointerMode_v2", lib.cublasSetPointerMode, cublasPointerModeHost},
		} {
			if err := lib.check(set.name, C.h_cublasSetInt(set.f, b.h, set.v)); err != nil {
				return err
			}
		}
		return lib.check("cublasSetStream_v2", C.h_cublasSetStream(lib.cublasSetStream, b.h, s.s))
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Version is cuBLAS's version, e.g. 130001.
func (b *BLAS) Version() (int, error) {
	var v C.int
	lib := b.c.r.b
	err := lib.check("cublasGetVersion_v2", C.h_cublasGetVersion(lib.cublasGetVersion, b.h, &v))
	return int(v), err
}

// Close destroys the handle.
func (b *BLAS) Close() error {
	lib := b.c.r.b
	return b.c.do(func(*driver) error { return lib.check("cublasDestroy_v2", C.h_cublasDestroy(lib.cublasDestroy, b.h)) })
}

// A Matrix is a batch of column-major single-precision matrices in device
// memory: matrix i starts Stride floats after matrix i-1, and column j of
// a matrix LD floats after column j-1. T says to use it transposed.
type Matrix struct {
	Buf    Buffer
	LD     int
	Stride int64
	T      bool
}

// GemmStridedBatched computes C[i] = alpha·op(A[i])·op(B[i]) + beta·C[i]
// for batch matrices, op(A) m×k, op(B) k×n, C m×n, all column-major as in
// cuBLAS. (Row-major matrices are their transposes: a row-major
// product C = A·B is the column-major Cᵀ = Bᵀ·Aᵀ, so swap A and B and m
// and n.) It calls cublasGemmStridedBatchedEx with the handle's math mode.
func (b *BLAS) GemmStridedBatched(m, n, k int, alpha float32, A, B Matrix, beta float32, Cm Matrix, batch int) error {
	lib := b.c.r.b
	op := func(t bool) C.int {
		if t {
			return cublasOpT
		}
		return cublasOpN
	}
	a, bt := C.float(alpha), C.float(beta)
	return b.c.do(func(*driver) error {
		s := C.h_cublasGemmStridedBatchedEx(lib.cublasGemmStridedBatchedEx, b.h, op(A.T), op(B.T),
			C.int(m), C.int(n), C.int(k), &a, A.Buf.ptr, C.int(A.LD), C.longlong(A.Stride),
			B.Buf.ptr, C.int(B.LD), C.longlong(B.Stride), &bt, Cm.Buf.ptr, C.int(Cm.LD), C.longlong(Cm.Stride),
			C.int(batch), b.compute)
		if err := lib.check("cublasGemmStridedBatchedEx", s); err != nil {
			return fmt.Errorf("%d×%d×%d ×%d: %w", m, n, k, batch, err)
		}
		return nil
	})
}
