package cosloss

import (
	"fmt"
	"runtime"
	"sync/atomic"
)

// workers is how many goroutines a large call may use, the caller's among
// them; 1 keeps every call
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
// goroutine. Starting goroutines costs a microsecond or two, but on a
// shared machine a helper may get its core only much later, or lose it
// mid-piece, and the caller then waits: with the other core busy, 1024×256
// (2^18 elements, 70 µs) ran 1.4–1.8× slower on two workers than on one.
// From 2^20 elements (about 300 µs) a split pays even so.
const parallelMinWork = 1 << 20

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

// splitRange runs job over [0, n) in one piece, or, when work (elements
// read) is at least parallelMinWork, in pieces of at least half that work
// shared by up to Workers() goroutines, the caller among them.
func splitRange[J rangeJob](n, work int, job J) {
	w := min(Workers(), n, work/(parallelMinWork/2))
	if w <= 1 || work < parallelMinWork {
		job.run(0, n)
		return
	}
	pieces := min(n, work/(parallelMinWork/2), piecesPerWorker*w)
	runParallel(n, pieces, w, job)
}

// piecesPerWorker bounds how finely a call is cut: enough pieces that a
// worker whose core is busy elsewhere leaves its share to the others.
const piecesPerWorker = 8

// sharedJob is one parallel call's state, which its goroutines share.
type sharedJob[J rangeJob] struct {
	job        J
	n, pieces  int
	next, done atomic.Int64
	finished   chan struct{} // closed when the last piece is done
	failure    atomic.Pointer[workerPanic]
}

// runParallel cuts [0, n) into pieces that the caller and w-1 helper
// goroutines claim one at a time until none is left, so that the call
// never waits for a goroutine the scheduler has not started yet (with
// the machine's other cores busy, a fixed share per goroutine made
// 1024×256 1.2–1.8× slower than one worker). The caller waits only for
// pieces already claimed. Only this path allocates (the shared state,
// the goroutines). A panic in a piece is caught there and raised again
// in the caller once every piece is done, where the caller's recover sees
// it; left in a helper it would abort the process, Python interpreter
// included.
func runParallel[J rangeJob](n, pieces, w int, job J) {
	s := &sharedJob[J]{job: job, n: n, pieces: pieces, finished: make(chan struct{})}
	for range w - 1 {
		go s.work()
	}
	s.work()
	<-s.finished
	if p := s.failure.Load(); p != nil {
		panic(p)
	}
}

// work runs pieces until every piece has been claimed.
func (s *sharedJob[J]) work() {
	for {
		k := int(s.next.Add(1)) - 1
		if k >= s.pieces {
			return
		}
		s.runPiece(k)
		if int(s.done.Add(1)) == s.pieces {
			close(s.finished)
		}
	}
}

func (s *sharedJob[J]) runPiece(k int) {
	defer func() {
		if r := recover(); r != nil {
			s.failure.CompareAndSwap(nil, &workerPanic{r})
		}
	}()
	s.job.run(s.n*k/s.pieces, s.n*(k+1)/s.pieces)
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
