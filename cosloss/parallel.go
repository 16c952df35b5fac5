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
// vectors over contiguous runs.
const innerBlock = 512

// forEachTask calls body(o, i0, i1) for blocks of slices covering layout l:
// one task per row when Inner is 1, else blocks of up to innerBlock
// neighbouring slices. Tasks are split across workers when the call reads
// enough elements to pay for it.
func forEachTask(l Layout, body func(o, i0, i1 int)) {
	perOuter := (l.Inner + innerBlock - 1) / innerBlock
	tasks := l.Outer * perOuter
	run := func(lo, hi int) {
		for t := lo; t < hi; t++ {
			o, b := t/perOuter, t%perOuter
			body(o, b*innerBlock, min((b+1)*innerBlock, l.Inner))
		}
	}
	n := min(Workers(), tasks)
	if n <= 1 || l.Size() < parallelMinWork {
		run(0, tasks)
		return
	}
	var wg sync.WaitGroup
	for w := range n {
		lo, hi := tasks*w/n, tasks*(w+1)/n
		wg.Go(func() { run(lo, hi) })
	}
	wg.Wait()
}
