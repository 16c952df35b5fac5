package binding

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// Statuses the computing exports return.
const (
	// OK: the call succeeded.
	OK = 0
	// Busy: a fork is being prepared (fork.go) and the call did not start;
	// Python waits for the fork and calls again. Any other negative value
	// is never returned, and a positive one names an error kept for
	// TakeError.
	Busy = -1
)

// errorsHeld keeps the message of each failed call until Python takes it.
// Only failures write here, so a successful call allocates nothing.
var errorsHeld struct {
	sync.Mutex
	last     int
	messages map[int]string
}

// report turns err into a status: OK, or a new positive code under which
// err's message waits for TakeError.
func report(err error) int {
	if err == nil {
		return OK
	}
	errorsHeld.Lock()
	defer errorsHeld.Unlock()
	if errorsHeld.messages == nil {
		errorsHeld.messages = map[int]string{}
	}
	errorsHeld.last = errorsHeld.last%(1<<30) + 1
	errorsHeld.messages[errorsHeld.last] = err.Error()
	return errorsHeld.last
}

// TakeError returns the message of a failed call's status and forgets it.
func TakeError(status int) string {
	errorsHeld.Lock()
	defer errorsHeld.Unlock()
	msg, ok := errorsHeld.messages[status]
	if !ok {
		return fmt.Sprintf("unknown status %d", status)
	}
	delete(errorsHeld.messages, status)
	return msg
}

// running counts the computing exports that are inside Go right now;
// forking is set while a fork is being prepared.
var (
	running atomic.Int64
	forking atomic.Bool
)

// enter registers a call about to start; false means a fork is being
// prepared and the call must not start. The count goes up before the flag
// is read, and BeginFork sets the flag before it reads the count, so either
// the call sees the flag or the fork sees the call.
func enter() bool {
	running.Add(1)
	if forking.Load() {
		running.Add(-1)
		return false
	}
	return true
}

// leave ends a call registered by enter. Deferred, it also turns a panic
// (the core's, or a worker goroutine's that the core passed on) into an
// error status: a panic that reached gopy's C code would abort Python.
func leave(status *int) {
	if r := recover(); r != nil {
		*status = report(fmt.Errorf("cosloss internal error: %v", r))
	}
	running.Add(-1)
}
