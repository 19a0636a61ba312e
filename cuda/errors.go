package cuda

/*
#include "shim.h"
*/
import "C"

import "fmt"

// An Error is a CUDA driver call that did not return CUDA_SUCCESS.
type Error struct {
	Func   string // the entry point, e.g. "cuMemAlloc"
	Code   int    // the CUresult
	Name   string // cuGetErrorName's text, e.g. "CUDA_ERROR_OUT_OF_MEMORY"
	String string // cuGetErrorString's text, e.g. "out of memory"
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s (%d): %s", e.Func, e.Name, e.Code, e.String)
}

// ErrOutOfMemory is the CUresult CUDA_ERROR_OUT_OF_MEMORY.
const ErrOutOfMemory = 2

// check turns the result r of the driver call fn into an error.
func (d *driver) check(fn string, r C.CUresult) error {
	if r == 0 {
		return nil
	}
	e := &Error{Func: fn, Code: int(r), Name: "unknown CUresult", String: "no description"}
	var s *C.char
	if d.cuGetErrorName != nil && C.h_cuGetErrorText(d.cuGetErrorName, r, &s) == 0 && s != nil {
		e.Name = C.GoString(s)
	}
	s = nil
	if d.cuGetErrorString != nil && C.h_cuGetErrorText(d.cuGetErrorString, r, &s) == 0 && s != nil {
		e.String = C.GoString(s)
	}
	return e
}

// An NVRTCError is an NVRTC call that did not return NVRTC_SUCCESS.
type NVRTCError struct {
	Func string
	Code int
	Text string // nvrtcGetErrorString's
	Log  string // the compiler's log, for nvrtcCompileProgram
}

func (e *NVRTCError) Error() string {
	s := fmt.Sprintf("%s: %s (%d)", e.Func, e.Text, e.Code)
	if e.Log != "" {
		s += "\n" + e.Log
	}
	return s
}

// check turns the result r of the NVRTC call fn into an error.
func (n *nvrtc) check(fn string, r C.nvrtcResult) error {
	if r == 0 {
		return nil
	}
	return &NVRTCError{Func: fn, Code: int(r), Text: C.GoString(C.h_nvrtcGetErrorString(n.nvrtcGetErrorString, r))}
}

// A BLASError is a cuBLAS call that did not return CUBLAS_STATUS_SUCCESS.
type BLASError struct {
	Func   string
	Code   int
	Name   string // cublasGetStatusName's, when the library has it
	String string // cublasGetStatusString's, when the library has it
}

func (e *BLASError) Error() string {
	return fmt.Sprintf("%s: %s (%d): %s", e.Func, e.Name, e.Code, e.String)
}

// check turns the status s of the cuBLAS call fn into an error.
func (b *blas) check(fn string, s C.cublasStatus_t) error {
	if s == 0 {
		return nil
	}
	e := &BLASError{Func: fn, Code: int(s), Name: "unknown status", String: "no description"}
	if b.cublasGetStatusName != nil {
		e.Name = C.GoString(C.h_cublasGetStatusText(b.cublasGetStatusName, s))
	}
	if b.cublasGetStatusString != nil {
		e.String = C.GoString(C.h_cublasGetStatusText(b.cublasGetStatusString, s))
	}
	return e
}
