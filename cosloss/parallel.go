package cosloss

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// workers is how many goroutines a large call may use; 1 keeps every call
// on the calling thread (needed in a fork()ed child, whose Go runtime has
// lost its threads).
var workers atomic.Int64

func init() { workers.Store(int64(runtime.GOMAXPROCS(0))) }

// SetWorkers sets how many goroutines large calls split across; n < 1 means 1.
func SetWorkers(n int) {
	workers.Store(int64(max(n, 1)))
}

// Workers reports the current setting.
func Workers() int { return int(workers.Load()) }

// parallelMinWork is the number of elements below which a call stays on one
// goroutine: starting and joining goroutines costs about a microsecond,
// which smaller calls would notice.
const parallelMinWork = 1 << 16

// innerBlock is how many neighbouring slices along Inner one task covers
// when the reduced axis is not the last: their sums then accumulate as
// vectors over contiguous runs. Long runs let the prefetcher keep up (at
// 256×100000 float32, 4096 took 7.5 ms where 512 took 8.7 ms), and the
// block's running sums still fit in L1 and L2 cache.
const innerBlock = 4096

// forEachTask calls body(o, i0, i1) for blocks of slices covering layout l:
// one task per row when Inner is 1, else blocks of up to innerBlock
// neighbouring slices. Tasks are split across workers when the call reads
// enough elements to pay for it.
func forEachTask(l Layout, body func(o, i0, i1 int)) {
	perOuter := (l.Inner + innerBlock - 1) / innerBlock
	splitRange(l.Outer*perOuter, l.Size(), func(lo, hi int) {
		for t := lo; t < hi; t++ {
			o, b := t/perOuter, t%perOuter
			body(o, b*innerBlock, min((b+1)*innerBlock, l.Inner))
		}
	})
}

// splitRange calls run over [0, n) in one piece, or in one contiguous piece
// per worker when work (elements read) is at least parallelMinWork.
func splitRange(n, work int, run func(lo, hi int)) {
	w := min(Workers(), n)
	if w <= 1 || work < parallelMinWork {
		run(0, n)
		return
	}
	var wg sync.WaitGroup
	for k := range w {
		lo, hi := n*k/w, n*(k+1)/w
		wg.Go(func() { run(lo, hi) })
	}
	wg.Wait()
}
