// Package parallel splits loops over the available processors.
package parallel

import (
	"runtime"
	"sync"
)

// For calls f on consecutive ranges [lo, hi) that cover [0, n), one range
// per processor, and returns when all calls have. The calls must write
// disjoint memory.
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
