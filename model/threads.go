package model

import "runtime"

// SetThreads makes the model compute on n cores: its kernels and its
// matrix products (OpenBLAS computes on the calling goroutine, see blas.go)
// split their work over n processors.
func SetThreads(n int) {
	if n > 0 {
		runtime.GOMAXPROCS(n)
	}
}
