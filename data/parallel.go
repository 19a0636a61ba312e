package data

import (
	"runtime"
	"sync"
)

// parallel calls f on consecutive ranges [lo, hi) that cover [0, n), one
// range per processor, and returns when all calls have.
func parallel(n int, f func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { f(w*n/workers, (w+1)*n/workers) })
	}
	wg.Wait()
}
