package cosloss

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// workers is how many goroutines a large call may use; 1 keeps every call
// on the calling thread (needed in a fork()ed child, whose Go runtime has
// lost its threads).
var workers atomic.Int64

func init() { workers.Store(int64(runtime.GOMAXPROCS(0))) }

// MaxWorkers caps SetWorkers: far more goroutines than CPUs only add
// start-up and scheduling cost (a 2e6-row call with 1e9 requested workers
// ran 7x slower than with 2).
const MaxWorkers = 256

// SetWorkers sets how many goroutines large calls split across; n is
// clamped to [1, MaxWorkers].
func SetWorkers(n int) {
	workers.Store(int64(min(max(n, 1), MaxWorkers)))
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

// A rangeJob is one call's work, split into tasks numbered [0, n); run
// does the tasks [lo, hi).
//
// Jobs are plain values (views, output slices, scalars) handed down by
// value through type parameters rather than closures: a closure that may
// reach a goroutine escapes to the heap on every call, even on the serial
// path, while a value job costs nothing there. A call on one worker
// therefore allocates nothing, which a fork()ed child relies on: it runs
// with the garbage collector off (see the binding), since collecting would
// hang it.
type rangeJob interface{ run(lo, hi int) }

// splitRange runs job over [0, n) in one piece, or in one contiguous piece
// per worker when work (elements read) is at least parallelMinWork. No piece
// gets less than half that work, whatever the setting: below it, starting
// a goroutine costs more than it saves.
func splitRange[J rangeJob](n, work int, job J) {
	w := min(Workers(), n, work/(parallelMinWork/2))
	if w <= 1 || work < parallelMinWork {
		job.run(0, n)
		return
	}
	runParallel(n, w, job)
}

// runParallel runs job on w goroutines. Only this path allocates (the
// shared copy of the job, the goroutines). A panic in a worker is caught
// there and raised again in the calling goroutine once every worker is done,
// where the caller's recover sees it; left in the worker it would abort the
// process, Python interpreter included.
func runParallel[J rangeJob](n, w int, job J) {
	shared := new(J)
	*shared = job
	var (
		wg      sync.WaitGroup
		failure atomic.Pointer[workerPanic]
	)
	for k := range w {
		lo, hi := n*k/w, n*(k+1)/w
		wg.Go(func() {
			defer func() {
				if r := recover(); r != nil {
					failure.CompareAndSwap(nil, &workerPanic{r})
				}
			}()
			(*shared).run(lo, hi)
		})
	}
	wg.Wait()
	if p := failure.Load(); p != nil {
		panic(p)
	}
}

// workerPanic carries a worker goroutine's panic value to the caller.
type workerPanic struct{ value any }

func (p *workerPanic) Error() string { return fmt.Sprintf("in a worker goroutine: %v", p.value) }

// A taskBody handles one task of forEachTask: slices (o, i0..i1-1).
type taskBody interface{ task(o, i0, i1 int) }

// forEachTask calls body.task(o, i0, i1) for blocks of slices covering
// layout l: one task per row when Inner is 1, else blocks of up to
// innerBlock neighbouring slices. Tasks are split across workers when the
// call reads enough elements to pay for it.
func forEachTask[B taskBody](l Layout, body B) {
	perOuter := (l.Inner + innerBlock - 1) / innerBlock
	splitRange(l.Outer*perOuter, l.Size(), tasks[B]{perOuter, l.Inner, body})
}

// tasks numbers forEachTask's tasks: task t is block t%perOuter of row t/perOuter.
type tasks[B taskBody] struct {
	perOuter, inner int
	body            B
}

func (j tasks[B]) run(lo, hi int) {
	for t := lo; t < hi; t++ {
		o, b := t/j.perOuter, t%j.perOuter
		j.body.task(o, b*innerBlock, min((b+1)*innerBlock, j.inner))
	}
}
