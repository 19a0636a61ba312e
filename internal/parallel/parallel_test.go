package parallel

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

func TestForCoversEachIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 1000} {
		seen := make([]atomic.Int32, n)
		For(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				seen[i].Add(1)
			}
		})
		for i := range seen {
			if c := seen[i].Load(); c != 1 {
				t.Fatalf("n=%d: index %d visited %d times", n, i, c)
			}
		}
	}
}

func TestChunksAreFixed(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, c := range []struct{ n, size int }{{0, 4}, {1, 4}, {4, 4}, {10, 4}, {1000, 96}} {
		var want [][2]int
		for lo := 0; lo < c.n; lo += c.size {
			want = append(want, [2]int{lo, min(lo+c.size, c.n)})
		}
		for _, procs := range []int{1, 2, 3, 8} {
			runtime.GOMAXPROCS(procs)
			var mu sync.Mutex
			var got [][2]int
			Chunks(c.n, c.size, func(lo, hi int) {
				mu.Lock()
				got = append(got, [2]int{lo, hi})
				mu.Unlock()
			})
			slices.SortFunc(got, func(a, b [2]int) int { return a[0] - b[0] })
			if !slices.Equal(got, want) {
				t.Errorf("n=%d size=%d on %d processors: chunks %v, want %v", c.n, c.size, procs, got, want)
			}
		}
	}
}
