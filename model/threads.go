package model

// void openblas_set_num_threads(int);
import "C"

import "runtime"

// SetThreads makes the model compute on n cores: n goroutines for its own
// kernels and n OpenBLAS threads for its matrix products.
func SetThreads(n int) {
	if n < 1 {
		return
	}
	runtime.GOMAXPROCS(n)
	C.openblas_set_num_threads(C.int(n))
}
