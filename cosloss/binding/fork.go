package binding

import (
	"math"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/cosloss/cosloss/cosloss"
)

// fork() copies the Go runtime into the child without its threads, while
// the runtime still believes they exist, and with any runtime lock or mark
// one of them held at that instant. Go supports fork only when exec
// follows, and the child hangs if:
//   - a processor (P) held by a thread that was running Go at the fork is
//     never given back, and the child's own calls wait for one for ever
//     (runtime.exitsyscallNoP → stoplockedm);
//   - anything wakes an idle thread of the parent's, above all the garbage
//     collector and goroutines: work handed to a thread that does not exist
//     (runtime.gcMarkDone → forEachP spins for ever);
//   - a thread of the parent's held the scheduler's lock at the instant of
//     the fork (runtime.exitsyscall → lock(&sched.lock)), or the monitor
//     thread (sysmon) had marked the forking thread's goroutine, as it does
//     for an instant on each round while that thread is outside Go
//     (runtime.exitsyscall → casgstatus spins on _Gscansyscall).
//
// Python's os.register_at_fork drives this protocol from cosloss._core, so
// that at the fork no call is inside Go, the collector is idle, and every
// P is idle with the runtime's threads, sysmon included, asleep:
//  1. Python stops starting calls, then BeginFork makes calls already on
//     their way in return Busy, and Quiesce is called until it returns 0:
//     no call is inside Go. Quiesce then runs one last collection and
//     stops the collector. Python waits 2 ms for Go's worker threads to
//     park; ReleaseProcessors takes the Ps back from the threads that have
//     left Go, and Python waits 30 ms more, for sysmon to take the forking
//     thread's P (it does after 10-20 ms outside Go) and to fall asleep.
//  2. fork().
//  3. EndForkInParent restores the collector and lets calls start again.
//     EndForkInChild lets calls start with one worker (no goroutines) and
//     the collector left off for good; calls allocate nothing on the Go
//     heap (a Go test holds them to it), so it has nothing to collect.
//
// The child's calls then take no runtime lock but the scheduler's, once,
// for their thread's P, and nothing else runs in the child to hold it:
// the core's scratch blocks are claimed with atomics (cosloss/sums.go).
//
// Two threads may prepare forks at once (Python runs the hooks before it
// serializes fork() itself), so the gate stays closed until both are done.

// forkedChild is set in a fork()ed child: SetWorkers keeps it at 1 worker.
var forkedChild atomic.Bool

// forks is the state of the forks being prepared.
var forks struct {
	sync.Mutex
	pending     int // BeginFork calls not yet ended
	paused      bool
	gcPercent   int   // the collector settings Quiesce replaced
	memoryLimit int64 //
}

// BeginFork stops new calls from starting (they get Busy).
func BeginFork() {
	forks.Lock()
	defer forks.Unlock()
	forks.pending++
	forking.Store(true)
}

// Quiesce returns how many calls are still inside Go. Once none is, it
// stops the garbage collector (waiting for a cycle under way to finish),
// so that no collection is running at the fork or can start in the child.
// Python calls it until it returns 0.
func Quiesce() int {
	if n := running.Load(); n > 0 {
		return int(n)
	}
	forks.Lock()
	defer forks.Unlock()
	if !forks.paused {
		forks.paused = true
		forks.gcPercent = debug.SetGCPercent(-1)
		// A memory limit would start collections even with GOGC off.
		forks.memoryLimit = debug.SetMemoryLimit(math.MaxInt64)
		if !forkedChild.Load() {
			// One last collection, swept and returned to the OS before
			// this returns, leaves the background sweeper and scavenger no
			// work to be caught doing (and holding the heap's lock) at the
			// fork. Not in a forked child, where a collection would hang
			// and the collector has been off since its fork.
			debug.FreeOSMemory()
		}
	}
	return 0
}

// ReleaseProcessors detaches every processor (P) from the threads that
// hold one, and leaves all but the caller's idle: a thread that has left
// Go keeps its P, as in a system call, until the runtime's monitor takes
// it back 10 ms or more later, and in the child such a P is lost for good.
// Stopping the world (what ReadMemStats does) hands them back at once.
//
// In a forked child it does nothing: stopping the world there would wait
// for ever for the processors that threads lost in the fork hold, and the
// child's one thread has kept its own P since its fork.
func ReleaseProcessors() {
	if forkedChild.Load() {
		return
	}
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
}

// EndForkInParent undoes BeginFork in the parent, whether fork() succeeded
// or not, once no other fork is being prepared.
func EndForkInParent() {
	forks.Lock()
	defer forks.Unlock()
	if forks.pending--; forks.pending > 0 {
		return
	}
	forks.pending = 0
	if forks.paused {
		forks.paused = false
		debug.SetMemoryLimit(forks.memoryLimit)
		debug.SetGCPercent(forks.gcPercent)
	}
	forking.Store(false)
}

// EndForkInChild lets calls start in a fork()ed child, on its one thread
// with the collector off.
func EndForkInChild() {
	forkedChild.Store(true)
	cosloss.SetWorkers(1)
	// The child has one thread and no fork in preparation; the copied mutex
	// may have been held by a thread that is gone.
	forks.Mutex = sync.Mutex{}
	forks.pending, forks.paused = 0, false // the collector stays off for good
	// Calls that other threads were entering at the fork never ran here.
	running.Store(0)
	forking.Store(false)
}
