package binding

import (
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/cosloss/cosloss/cosloss"
)

// addr pins s and returns its address, standing in for a numpy buffer.
func addr[T float32 | float64](p *runtime.Pinner, s []T) uintptr {
	p.Pin(&s[0])
	return uintptr(unsafe.Pointer(&s[0]))
}

// ok fails the test with the held message unless status is OK.
func ok(t *testing.T, status int) {
	t.Helper()
	if status != OK {
		t.Fatalf("status %d: %s", status, TakeError(status))
	}
}

// failsWith checks that status is an error whose message contains want.
func failsWith(t *testing.T, what string, status int, want string) {
	t.Helper()
	if status <= 0 {
		t.Errorf("%s: status %d, want an error", what, status)
		return
	}
	if msg := TakeError(status); !strings.Contains(msg, want) {
		t.Errorf("%s: error %q does not mention %q", what, msg, want)
	}
}

func TestCosineThroughAddresses(t *testing.T) {
	var p runtime.Pinner
	defer p.Unpin()
	x := []float32{1, 2, 0, 1}
	y := []float32{2, 1, 0, 3}
	out := make([]float32, 2)
	ok(t, Cosine(Float32, 1, addr(&p, x), 4, addr(&p, y), 4, addr(&p, out), 2, 2, 2, 1, 2, 1, 0, 2, 1, 0, 0, 1e-12))
	if out[0] != -0.8 || out[1] != -1 {
		t.Errorf("got %v, want [-0.8 -1]", out)
	}
}

// Along the middle axis of a 2×3×2 array, the short form must agree with
// the strided one.
func TestCosineContiguousMatchesStrided(t *testing.T) {
	var p runtime.Pinner
	defer p.Unpin()
	x := []float64{1, 2, 0, 1, 3, -1, 2, 2, -1, 0, 1, 4}
	y := []float64{2, 1, 0, 3, 1, 1, -2, 5, 0.5, 1, 1, 1}
	short, long := make([]float64, 4), make([]float64, 4)
	ok(t, CosineContiguous(Float64, 2, addr(&p, x), addr(&p, y), addr(&p, short), 2, 3, 2, 0, 1e-12))
	ok(t, Cosine(Float64, 2, addr(&p, x), 12, addr(&p, y), 12, addr(&p, long), 4, 2, 3, 2, 6, 2, 1, 6, 2, 1, 0, 1e-12))
	if !slices.Equal(short, long) {
		t.Errorf("CosineContiguous %v, Cosine %v", short, long)
	}
	// 1 − cos of the first slice, (1, 0, 3)·(2, 0, 1) / (√10·√5).
	if want := 1 - 5/(math.Sqrt(10)*math.Sqrt(5)); math.Abs(short[0]-want) > 1e-15 {
		t.Errorf("slice (0, 0): got %v, want %v", short[0], want)
	}
}

// The rule reaches the core: x = (1e-7, 0) is below ε = 1e-12 on Σx² but
// not on ‖x‖, and Σx² + ε is not Σx².
func TestEpsRulesPassThrough(t *testing.T) {
	var p runtime.Pinner
	defer p.Unpin()
	x, y := []float64{1e-7, 0}, []float64{1, 0}
	want := []float64{0.1, 1, 1e-7 / math.Sqrt((1e-14+1e-12)*(1+1e-12))}
	for rule, w := range want {
		out, value, dx := make([]float64, 1), make([]float64, 1), make([]float64, 2)
		ok(t, CosineContiguous(Float64, 0, addr(&p, x), addr(&p, y), addr(&p, out), 1, 2, 1, rule, 1e-12))
		ok(t, CosineGrad(Float64, 0, addr(&p, x), 2, addr(&p, y), 2, addr(&p, []float64{1}), 1, addr(&p, value), 1,
			addr(&p, dx), 2, 0, 0, 1, 2, 1, 2, 1, 0, 2, 1, 0, rule, 1e-12))
		if math.Abs(out[0]-w) > 1e-15 || value[0] != out[0] {
			t.Errorf("rule %d: Cosine %v, CosineGrad %v; want %v", rule, out[0], value[0], w)
		}
	}
}

func TestErrorsBecomeStatuses(t *testing.T) {
	var p runtime.Pinner
	defer p.Unpin()
	x := []float64{1, 2}
	out := make([]float64, 1)
	failsWith(t, "float16", Cosine(16, 0, addr(&p, x), 2, addr(&p, x), 2, addr(&p, out), 1, 1, 2, 1, 2, 1, 0, 2, 1, 0, 0, 0), "dtype")
	failsWith(t, "rule 3", Cosine(Float64, 0, addr(&p, x), 2, addr(&p, x), 2, addr(&p, out), 1, 1, 2, 1, 2, 1, 0, 2, 1, 0, 3, 1e-12), "rule")
	failsWith(t, "rule -1", CosineContiguous(Float64, 0, addr(&p, x), addr(&p, x), addr(&p, out), 1, 2, 1, -1, 1e-12), "rule")
	failsWith(t, "grad rule 3", CosineGrad(Float64, 0, addr(&p, x), 2, addr(&p, x), 2, addr(&p, out), 1, addr(&p, out), 1,
		0, 0, 0, 0, 1, 2, 1, 2, 1, 0, 2, 1, 0, 3, 1e-12), "rule")
	failsWith(t, "reduction 7", Reduce(Float64, addr(&p, x), addr(&p, x), 2, 2, 7, addr(&p, out)), "reduction")
	failsWith(t, "kernel", SetKernel("no-such-set"), "no-such-set")
	if msg := TakeError(12345); !strings.Contains(msg, "unknown status") {
		t.Errorf("TakeError of an unknown status: %q", msg)
	}
}

// The buffer lengths Python passes bound what the core may read: a layout
// that reaches past them, or whose arithmetic overflows, is refused.
func TestLayoutsAreCheckedAgainstBuffers(t *testing.T) {
	var p runtime.Pinner
	defer p.Unpin()
	x := make([]float32, 6)
	out := make([]float32, 2)
	a, o := addr(&p, x), addr(&p, out)
	// 2 rows of 3 need 6 elements; the buffer says 5.
	failsWith(t, "short x", Cosine(Float32, 0, a, 5, a, 6, o, 2, 2, 3, 1, 3, 1, 0, 3, 1, 0, 0, 0), "x: view addresses 6 elements but data has 5")
	failsWith(t, "short y", Cosine(Float32, 0, a, 6, a, 5, o, 2, 2, 3, 1, 3, 1, 0, 3, 1, 0, 0, 0), "y: view addresses")
	failsWith(t, "short out", Cosine(Float32, 0, a, 6, a, 6, o, 1, 2, 3, 1, 3, 1, 0, 3, 1, 0, 0, 0), "out: want 2")
	failsWith(t, "overflowing stride", Cosine(Float32, 0, a, 6, a, 6, o, 2, 2, 3, 1, math.MaxInt, 1, 0, 3, 1, 0, 0, 0), "reach past")
	failsWith(t, "overflowing size", Cosine(Float32, 0, a, 6, a, 6, o, 2, math.MaxInt/2, 3, 4, 3, 1, 0, 3, 1, 0, 0, 0), "more elements")
	failsWith(t, "negative stride", Cosine(Float32, 0, a, 6, a, 6, o, 2, 2, 3, 1, -3, 1, 0, 3, 1, 0, 0, 0), "negative stride")
	failsWith(t, "no address", Cosine(Float32, 0, 0, 6, a, 6, o, 2, 2, 3, 1, 3, 1, 0, 3, 1, 0, 0, 0), "data has 0")
	failsWith(t, "short l2 out", L2Normalize(Float32, a, 6, o, 2, 2, 3, 1, 3, 1, 0, 0), "out: want 6")
	failsWith(t, "short grad", CosineGrad(Float32, 0, a, 6, a, 6, o, 2, o, 2, a, 5, 0, 0, 2, 3, 1, 3, 1, 0, 3, 1, 0, 0, 0), "dx: want 6")
}

func TestPanicsBecomeStatuses(t *testing.T) {
	status := func() (status int) {
		if !enter() {
			return Busy
		}
		defer leave(&status)
		var s []float64
		_ = s[3]
		return OK
	}()
	failsWith(t, "index panic", status, "internal error")
	if n := running.Load(); n != 0 {
		t.Errorf("a panicking call left running = %d", n)
	}
}

// While a fork is being prepared calls return Busy without running, and
// Quiesce waits for the calls already inside Go.
func TestForkGate(t *testing.T) {
	var p runtime.Pinner
	defer p.Unpin()
	x := []float32{1, 2}
	out := make([]float32, 1)
	call := func() int {
		return Cosine(Float32, 0, addr(&p, x), 2, addr(&p, x), 2, addr(&p, out), 1, 1, 2, 1, 2, 1, 0, 2, 1, 0, 0, 1e-12)
	}
	running.Add(1) // a call inside Go in another thread
	BeginFork()
	BeginFork() // a second thread preparing a fork
	if n := Quiesce(); n != 1 {
		t.Errorf("Quiesce with a call running: %d, want 1", n)
	}
	out[0] = 7
	if s := call(); s != Busy || out[0] != 7 {
		t.Errorf("call during a fork: status %d, out %v; want Busy and no write", s, out)
	}
	running.Add(-1)
	if n := Quiesce(); n != 0 {
		t.Errorf("Quiesce with no call running: %d", n)
	}
	EndForkInParent()
	if s := call(); s != Busy {
		t.Errorf("call while the second fork is pending: status %d, want Busy", s)
	}
	EndForkInParent()
	ok(t, call())
	if out[0] != 1 {
		t.Errorf("cos(x, x) = %v after the fork", out[0])
	}
}

// A call on one worker allocates nothing on the Go heap, on every path:
// a fork()ed child runs with the collector off, so an allocation per call
// would be memory it never gets back (and, collector on, a hang).
func TestCallsAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	defer cosloss.SetWorkers(cosloss.Workers())
	cosloss.SetWorkers(1)
	var p runtime.Pinner
	defer p.Unpin()
	const outer, n, inner = 3, 70, 5 // axis 1 of 3×70×5: not the last axis
	size := outer * n * inner
	x32, y32 := make([]float32, size), make([]float32, size)
	x64, y64 := make([]float64, size), make([]float64, size)
	for i := range x32 {
		x32[i], y32[i] = float32(i%7)-3, float32(i%5)-1
		x64[i], y64[i] = float64(x32[i]), float64(y32[i])
	}
	x32[4] = float32(math.Inf(1)) // the non-finite path too
	a32, b32, a64, b64 := addr(&p, x32), addr(&p, y32), addr(&p, x64), addr(&p, y64)
	o32, o64 := addr(&p, make([]float32, size)), addr(&p, make([]float64, size))
	d32, d64 := addr(&p, make([]float32, size)), addr(&p, make([]float64, size))
	g32, g64 := addr(&p, make([]float32, size)), addr(&p, make([]float64, size))
	r := addr(&p, make([]float64, 1))
	// FloorNorm and AddSquared finish blocks on their own path (and the
	// gradient's pull differs), so each computing call runs under each rule.
	var rule int
	calls := map[string]func() int{
		"Cosine rows f32": func() int { return CosineContiguous(Float32, 1, a32, b32, o32, outer*inner, n, 1, rule, 1e-12) },
		"Cosine rows f64": func() int { return CosineContiguous(Float64, 3, a64, b64, o64, outer*inner, n, 1, rule, 1e-12) },
		"Cosine axis 1": func() int {
			return CosineContiguous(Float32, 0, a32, b32, o32, outer, n, inner, rule, 1e-12)
		},
		"Cosine strided": func() int {
			return Cosine(Float64, 0, a64, size, b64, size, o64, outer, outer, n, 1, n*inner, inner, 0, n*inner, inner, 0, rule, 1e-12)
		},
		"Cosine broadcast": func() int {
			return Cosine(Float32, 0, a32, size, b32, size, o32, outer, outer, n, 1, n, 0, 0, n, 1, 0, rule, 1e-12)
		},
		"CosineDistance": func() int {
			return CosineDistance(Float32, a32, size, b32, size, o32, outer*inner, outer, n, inner, n*inner, inner, 1, n*inner, inner, 1)
		},
		"L2Normalize": func() int {
			return L2Normalize(Float64, a64, size, o64, size, outer, n, inner, n*inner, inner, 1, 1e-12)
		},
		"Weighted": func() int { return Weighted(Float32, a32, b32, o32, size, size) },
		"Reduce":   func() int { return Reduce(Float64, a64, b64, size, 1, 2, r) },
		"CosineGrad rows": func() int {
			return CosineGrad(Float32, 1, a32, size, b32, size, g32, outer*inner, o32, outer*inner, d32, size, d32, size,
				outer*inner, n, 1, n, 1, 0, n, 1, 0, rule, 1e-12)
		},
		"CosineGrad axis 1": func() int {
			return CosineGrad(Float64, 3, a64, size, b64, size, g64, outer*inner, o64, outer*inner, d64, size, 0, 0,
				outer, n, inner, n*inner, inner, 1, n*inner, inner, 1, rule, 1e-12)
		},
		"CosineDistanceGrad": func() int {
			return CosineDistanceGrad(Float32, a32, size, b32, size, g32, outer*inner, o32, outer*inner, d32, size, d32, size,
				outer, n, inner, n*inner, inner, 1, n*inner, inner, 1)
		},
		"L2NormalizeGrad": func() int {
			return L2NormalizeGrad(Float32, a32, size, g32, size, o32, size, d32, size, outer, n, inner, n*inner, inner, 1, 1e-12)
		},
	}
	for _, kernel := range cosloss.Kernels() {
		if err := cosloss.SetKernel(kernel); err != nil {
			t.Fatal(err)
		}
		for rule = range 3 {
			for name, call := range calls {
				ok(t, call())
				if allocs := testing.AllocsPerRun(20, func() { call() }); allocs != 0 {
					t.Errorf("%s (kernel %s, rule %d): %v allocations per call", name, kernel, rule, allocs)
				}
			}
		}
	}
}
