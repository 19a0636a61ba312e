// Package parallel splits loops over the available processors.
package parallel

import (
	"runtime"
	"sync"
)

// For calls f on consecutive ranges [lo, hi) that cover [0, n), one range
// per processor, and returns when all calls have. The calls must write
// disjoint memory. The ranges follow the number of processors: a
// computation whose bits depend on where ranges begin and end must use
// Chunks.
func For(n int, f func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { f(w*n/workers, (w+1)*n/workers) })
	}
	wg.Wait()
}

// Chunks calls f on the chunks [i·size, min((i+1)·size, n)) of [0, n), one
// call per chunk, shared among the processors, and returns when all calls
// have. The calls must write disjoint memory. The chunks depend on n and
// size alone, never on the number of processors, so that a computation
// made of one call per chunk (a BLAS call, a partial sum) gives the same
// bits on any number of threads.
func Chunks(n, size int, f func(lo, hi int)) {
	For((n+size-1)/size, func(first, last int) {
		for i := first; i < last; i++ {
			f(i*size, min((i+1)*size, n))
		}
	})
}
