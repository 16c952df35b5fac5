// Package binding is the surface gopy compiles into the CPython extension.
//
// Only plain functions over buffer addresses, lengths, sizes and scalars
// cross the boundary: gopy converts Go slices one element at a time, which
// costs microseconds per element, while an address costs nothing. Python
// validates every argument (dtype, shape, strides, alignment, writeability)
// and keeps the arrays alive during the call; this package turns each
// address and the buffer's length in elements into a slice, and the cosloss
// core checks that the layout it is asked to read fits in that slice.
//
// Every computing export returns an int status (see status.go) rather than
// an error: gopy v0.5.0 returns a Go error to C as a C string that it never
// frees, 30-55 bytes leaked per call, while an int costs nothing. The same
// exports recover panics into statuses, because a Go panic would abort the
// whole Python process, and take part in the fork protocol of fork.go.
package binding

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/cosloss/cosloss/cosloss"
)

// Element types, by their size in bits, as Python passes them.
const (
	Float32 = 32
	Float64 = 64
)

// Cosine writes form(cos) of x and y along the Len axis into out, for every
// (outer, inner) slice. form is 0 cos, 1 −cos, 2 1−cos, 3 (1−cos)². rule is
// how eps keeps each norm away from zero: 0 FloorSquared (TensorFlow,
// max(Σx², eps)), 1 FloorNorm (PyTorch's cosine_similarity, max(‖x‖, eps)),
// 2 AddSquared (PyTorch's CosineEmbeddingLoss, Σx² + eps); any other is an
// error. An input broadcast along the axis (len stride 0) has its norm
// over its one element under 0 and 2, over the n copies under 1 (torch
// expands it first). Strides are in elements; each buffer comes with its
// length in elements.
func Cosine(dtype, form int, x uintptr, xLen int, y uintptr, yLen int, out uintptr, outLen int,
	outer, n, inner, xOuterStride, xLenStride, xInnerStride,
	yOuterStride, yLenStride, yInnerStride, rule int, eps float64) (status int) {
	if !enter() {
		return Busy
	}
	defer leave(&status)
	l, xs, ys := pairLayout(outer, n, inner, xOuterStride, xLenStride, xInnerStride,
		yOuterStride, yLenStride, yInnerStride)
	switch dtype {
	case Float32:
		return report(cosloss.Cosine(view[float32](x, xLen, l, xs), view[float32](y, yLen, l, ys),
			cosloss.Form(form), floats[float32](out, outLen), cosloss.EpsRule(rule), float32(eps)))
	case Float64:
		return report(cosloss.Cosine(view[float64](x, xLen, l, xs), view[float64](y, yLen, l, ys),
			cosloss.Form(form), floats[float64](out, outLen), cosloss.EpsRule(rule), eps))
	}
	return report(badDtype(dtype))
}

// CosineContiguous is Cosine for two C-ordered arrays of one layout, whose
// strides and lengths follow from it (out holds outer·inner elements); form
// and rule are Cosine's. It exists for small calls: gopy parses each
// argument, about 40 ns apiece, and this form has eleven fewer.
func CosineContiguous(dtype, form int, x, y, out uintptr, outer, n, inner, rule int, eps float64) int {
	size := outer * n * inner
	return Cosine(dtype, form, x, size, y, size, out, outer*inner, outer, n, inner,
		n*inner, inner, 1, n*inner, inner, 1, rule, eps)
}

// CosineDistance writes 1 − Σx·y along the Len axis into out (no
// normalization, as TF1's cosine_distance).
func CosineDistance(dtype int, x uintptr, xLen int, y uintptr, yLen int, out uintptr, outLen int,
	outer, n, inner, xOuterStride, xLenStride, xInnerStride,
	yOuterStride, yLenStride, yInnerStride int) (status int) {
	if !enter() {
		return Busy
	}
	defer leave(&status)
	l, xs, ys := pairLayout(outer, n, inner, xOuterStride, xLenStride, xInnerStride,
		yOuterStride, yLenStride, yInnerStride)
	switch dtype {
	case Float32:
		return report(cosloss.CosineDistance(view[float32](x, xLen, l, xs), view[float32](y, yLen, l, ys),
			floats[float32](out, outLen)))
	case Float64:
		return report(cosloss.CosineDistance(view[float64](x, xLen, l, xs), view[float64](y, yLen, l, ys),
			floats[float64](out, outLen)))
	}
	return report(badDtype(dtype))
}

// L2Normalize writes x · rsqrt(max(Σx², eps)) into out, C-ordered with the
// layout outer × n × inner.
func L2Normalize(dtype int, x uintptr, xLen int, out uintptr, outLen int, outer, n, inner,
	outerStride, lenStride, innerStride int, eps float64) (status int) {
	if !enter() {
		return Busy
	}
	defer leave(&status)
	l := cosloss.Layout{Outer: outer, Len: n, Inner: inner}
	s := [3]int{outerStride, lenStride, innerStride}
	switch dtype {
	case Float32:
		return report(cosloss.L2Normalize(view[float32](x, xLen, l, s), floats[float32](out, outLen), float32(eps)))
	case Float64:
		return report(cosloss.L2Normalize(view[float64](x, xLen, l, s), floats[float64](out, outLen), eps))
	}
	return report(badDtype(dtype))
}

// Weighted writes losses·weights into out; all three hold n elements but
// weights, which holds 1 or n.
func Weighted(dtype int, losses, weights, out uintptr, n, nweights int) (status int) {
	if !enter() {
		return Busy
	}
	defer leave(&status)
	switch dtype {
	case Float32:
		return report(cosloss.Weighted(floats[float32](losses, n), floats[float32](weights, nweights), floats[float32](out, n)))
	case Float64:
		return report(cosloss.Weighted(floats[float64](losses, n), floats[float64](weights, nweights), floats[float64](out, n)))
	}
	return report(badDtype(dtype))
}

// Reduce writes the reduction (1 sum, 2 mean, 3 sum over batch size, 4 sum
// by nonzero weights) of losses·weights, as a float64, into result[0];
// losses holds n elements and weights 1 or n.
func Reduce(dtype int, losses, weights uintptr, n, nweights, reduction int, result uintptr) (status int) {
	if !enter() {
		return Busy
	}
	defer leave(&status)
	dst := floats[float64](result, 1)
	if dst == nil {
		return report(fmt.Errorf("result: no buffer"))
	}
	r := cosloss.Reduction(reduction)
	switch dtype {
	case Float32:
		v, err := cosloss.Reduce(floats[float32](losses, n), floats[float32](weights, nweights), r)
		dst[0] = float64(v)
		return report(err)
	case Float64:
		v, err := cosloss.Reduce(floats[float64](losses, n), floats[float64](weights, nweights), r)
		dst[0] = v
		return report(err)
	}
	return report(badDtype(dtype))
}

// CosineGrad is Cosine plus the gradients: upstream holds one value per
// slice, dx and dy (0 to skip) receive C-ordered gradients of x's shape.
// form and rule are Cosine's (rule: 0 FloorSquared, 1 FloorNorm,
// 2 AddSquared), and the gradients are those of rule's library.
func CosineGrad(dtype, form int, x uintptr, xLen int, y uintptr, yLen int,
	upstream uintptr, upstreamLen int, value uintptr, valueLen int,
	dx uintptr, dxLen int, dy uintptr, dyLen int, outer, n, inner,
	xOuterStride, xLenStride, xInnerStride,
	yOuterStride, yLenStride, yInnerStride, rule int, eps float64) (status int) {
	if !enter() {
		return Busy
	}
	defer leave(&status)
	l, xs, ys := pairLayout(outer, n, inner, xOuterStride, xLenStride, xInnerStride,
		yOuterStride, yLenStride, yInnerStride)
	switch dtype {
	case Float32:
		return report(cosloss.CosineGrad(view[float32](x, xLen, l, xs), view[float32](y, yLen, l, ys), cosloss.Form(form),
			floats[float32](upstream, upstreamLen), floats[float32](value, valueLen),
			floats[float32](dx, dxLen), floats[float32](dy, dyLen), cosloss.EpsRule(rule), float32(eps)))
	case Float64:
		return report(cosloss.CosineGrad(view[float64](x, xLen, l, xs), view[float64](y, yLen, l, ys), cosloss.Form(form),
			floats[float64](upstream, upstreamLen), floats[float64](value, valueLen),
			floats[float64](dx, dxLen), floats[float64](dy, dyLen), cosloss.EpsRule(rule), eps))
	}
	return report(badDtype(dtype))
}

// CosineDistanceGrad is CosineDistance plus the gradients −g·y for x and
// −g·x for y; dx and dy (0 to skip) are C-ordered with x's shape.
func CosineDistanceGrad(dtype int, x uintptr, xLen int, y uintptr, yLen int,
	upstream uintptr, upstreamLen int, value uintptr, valueLen int,
	dx uintptr, dxLen int, dy uintptr, dyLen int, outer, n, inner,
	xOuterStride, xLenStride, xInnerStride,
	yOuterStride, yLenStride, yInnerStride int) (status int) {
	if !enter() {
		return Busy
	}
	defer leave(&status)
	l, xs, ys := pairLayout(outer, n, inner, xOuterStride, xLenStride, xInnerStride,
		yOuterStride, yLenStride, yInnerStride)
	switch dtype {
	case Float32:
		return report(cosloss.CosineDistanceGrad(view[float32](x, xLen, l, xs), view[float32](y, yLen, l, ys),
			floats[float32](upstream, upstreamLen), floats[float32](value, valueLen),
			floats[float32](dx, dxLen), floats[float32](dy, dyLen)))
	case Float64:
		return report(cosloss.CosineDistanceGrad(view[float64](x, xLen, l, xs), view[float64](y, yLen, l, ys),
			floats[float64](upstream, upstreamLen), floats[float64](value, valueLen),
			floats[float64](dx, dxLen), floats[float64](dy, dyLen)))
	}
	return report(badDtype(dtype))
}

// L2NormalizeGrad is L2Normalize plus the gradient for the C-ordered
// upstream gradient; upstream, out and dx are C-ordered with the layout.
func L2NormalizeGrad(dtype int, x uintptr, xLen int, upstream uintptr, upstreamLen int,
	out uintptr, outLen int, dx uintptr, dxLen int, outer, n, inner,
	outerStride, lenStride, innerStride int, eps float64) (status int) {
	if !enter() {
		return Busy
	}
	defer leave(&status)
	l := cosloss.Layout{Outer: outer, Len: n, Inner: inner}
	s := [3]int{outerStride, lenStride, innerStride}
	switch dtype {
	case Float32:
		return report(cosloss.L2NormalizeGrad(view[float32](x, xLen, l, s), floats[float32](upstream, upstreamLen),
			floats[float32](out, outLen), floats[float32](dx, dxLen), float32(eps)))
	case Float64:
		return report(cosloss.L2NormalizeGrad(view[float64](x, xLen, l, s), floats[float64](upstream, upstreamLen),
			floats[float64](out, outLen), floats[float64](dx, dxLen), eps))
	}
	return report(badDtype(dtype))
}

// SetWorkers sets how many goroutines large calls split across (1: none),
// clamped to [1, MaxWorkers]. In a fork()ed child it stays 1: Go's runtime
// there has lost its threads, and goroutines would never run.
func SetWorkers(n int) {
	if forkedChild.Load() {
		n = 1
	}
	cosloss.SetWorkers(n)
}

// Workers reports the number of goroutines large calls split across.
func Workers() int { return cosloss.Workers() }

// MaxWorkers is the most SetWorkers accepts.
func MaxWorkers() int { return cosloss.MaxWorkers }

// SetKernel selects the kernel set by name; see Kernels.
func SetKernel(name string) (status int) {
	if !enter() {
		return Busy
	}
	defer leave(&status)
	return report(cosloss.SetKernel(name))
}

// Kernel names the active kernel set.
func Kernel() string { return cosloss.Kernel() }

// Kernels lists the kernel sets this build and CPU can run, comma-separated.
func Kernels() string { return strings.Join(cosloss.Kernels(), ",") }

// floats is the one place an address becomes a slice, of the buffer's
// length n. The address comes from numpy's buffer, which is C memory that
// Go's collector never moves or frees, so holding it as a uintptr until
// here is safe; reading it through a *unsafe.Pointer keeps go vet's uintptr
// check quiet for this audited use.
func floats[T float32 | float64](p uintptr, n int) []T {
	if n <= 0 || p == 0 {
		return nil
	}
	ptr := *(*unsafe.Pointer)(unsafe.Pointer(&p))
	return unsafe.Slice((*T)(ptr), n)
}

// pairLayout gathers the shared layout and the two inputs' strides.
func pairLayout(outer, n, inner, xo, xn, xi, yo, yn, yi int) (cosloss.Layout, [3]int, [3]int) {
	return cosloss.Layout{Outer: outer, Len: n, Inner: inner}, [3]int{xo, xn, xi}, [3]int{yo, yn, yi}
}

// view is the strided window of layout l on the buffer at p, which holds n
// elements; the core's View.Check rejects a layout that reaches past them.
func view[T float32 | float64](p uintptr, n int, l cosloss.Layout, strides [3]int) cosloss.View[T] {
	return cosloss.View[T]{Data: floats[T](p, n), Layout: l,
		OuterStride: strides[0], LenStride: strides[1], InnerStride: strides[2]}
}

func badDtype(dtype int) error {
	return fmt.Errorf("dtype: want %d or %d bits, got %d", Float32, Float64, dtype)
}
