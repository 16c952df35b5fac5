package cosloss

import "gonum.org/v1/gonum/blas/gonum"

// blas is gonum's pure-Go BLAS with amd64 assembly for the dot products.
var blas gonum.Implementation

// pairSums holds the three reductions a cosine needs along one slice:
// Σx·y, Σx² and Σy², accumulated in float64.
type pairSums struct {
	dot, xx, yy float64
}

// blockLen bounds how much of a slice the three dot products read before
// moving on: the second and third passes then hit L1 cache, so memory is
// streamed once, while gonum's assembly still does the arithmetic.
const blockLen = 2048

// sliceSums computes Σx·y, Σx², Σy² along the slice (o, ·, i) of x and y,
// which share a layout.
func sliceSums[T Float](x, y View[T], o, i int) pairSums {
	n := x.Len
	ox, oy := x.base(o, i), y.base(o, i)
	sx, sy := x.LenStride, y.LenStride
	if n == 0 {
		return pairSums{}
	}
	if sx == 0 || sy == 0 {
		return scalarSums(x.Data, y.Data, ox, oy, sx, sy, n)
	}
	if sx == 1 && sy == 1 {
		return unitSums(x.Data[ox:ox+n], y.Data[oy:oy+n])
	}
	var s pairSums
	for k := 0; k < n; k += blockLen {
		m := min(blockLen, n-k)
		xs := x.Data[ox+k*sx : ox+(k+m-1)*sx+1]
		ys := y.Data[oy+k*sy : oy+(k+m-1)*sy+1]
		s.add(blockSums(xs, ys, sx, sy, m))
	}
	return s
}

func (s *pairSums) add(t pairSums) {
	s.dot += t.dot
	s.xx += t.xx
	s.yy += t.yy
}

// blockSums dispatches one block to gonum's float64-accumulating dot
// products: Dsdot for float32 (so long rows keep float64 accuracy) and Ddot
// for float64.
func blockSums[T Float](xs, ys []T, sx, sy, m int) pairSums {
	switch xv := any(xs).(type) {
	case []float32:
		yv := any(ys).([]float32)
		return pairSums{
			dot: blas.Dsdot(m, xv, sx, yv, sy),
			xx:  blas.Dsdot(m, xv, sx, xv, sx),
			yy:  blas.Dsdot(m, yv, sy, yv, sy),
		}
	case []float64:
		yv := any(ys).([]float64)
		return pairSums{
			dot: blas.Ddot(m, xv, sx, yv, sy),
			xx:  blas.Ddot(m, xv, sx, xv, sx),
			yy:  blas.Ddot(m, yv, sy, yv, sy),
		}
	}
	// Named types such as `type f32 float32` land here: correct, just slower.
	return scalarSums(xs, ys, 0, 0, sx, sy, m)
}

// scalarSums is the portable loop, used where BLAS cannot be: zero strides
// (an input broadcast along the axis) and element types gonum does not know.
func scalarSums[T Float](xd, yd []T, ox, oy, sx, sy, n int) pairSums {
	var s pairSums
	for k := 0; k < n; k++ {
		a, b := float64(xd[ox+k*sx]), float64(yd[oy+k*sy])
		s.dot += a * b
		s.xx += a * a
		s.yy += b * b
	}
	return s
}

// forEachSlice calls body with the sums of every slice (o, ·, i) of x and
// y, across workers for large calls (see forEachTask). Each call of body
// is for a distinct slice, so bodies may write that slice's outputs.
func forEachSlice[T Float](x, y View[T], body func(o, i int, s pairSums)) {
	if x.Len == 0 {
		// Nothing to read (and Data may be empty): every sum is 0.
		for o := 0; o < x.Outer; o++ {
			for i := 0; i < x.Inner; i++ {
				body(o, i, pairSums{})
			}
		}
		return
	}
	if x.Inner == 1 && x.unitRows() && y.unitRows() {
		// Contiguous rows, the common case: straight to the kernel, without
		// the per-slice view arithmetic, which costs as much as a short row.
		n := x.Len
		splitRange(x.Outer, x.Size(), func(o0, o1 int) {
			for o := o0; o < o1; o++ {
				xb, yb := o*x.OuterStride, o*y.OuterStride
				body(o, 0, unitSums(x.Data[xb:xb+n], y.Data[yb:yb+n]))
			}
		})
		return
	}
	forEachTask(x.Layout, func(o, i0, i1 int) {
		if i1-i0 > 1 && acrossRows(x) && acrossRows(y) {
			var sums [innerBlock]pairSums
			sumsAcross(x, y, o, i0, sums[:i1-i0])
			for j, s := range sums[:i1-i0] {
				body(o, i0+j, s)
			}
			return
		}
		for i := i0; i < i1; i++ {
			body(o, i, sliceSums(x, y, o, i))
		}
	})
}

// acrossRows reports whether neighbouring slices are contiguous, so their
// sums can accumulate as vectors: the reduced axis is not the last one.
func acrossRows[T Float](v View[T]) bool {
	return v.InnerStride == 1 && v.LenStride != 0
}

// sumsAcross fills dst with the sums of slices (o, ·, i0+j), whose
// elements lie in contiguous runs x[o, k, i0:i1] for each step k along the
// axis: the kernel set sums them column by column in float64.
func sumsAcross[T Float](x, y View[T], o, i0 int, dst []pairSums) {
	var dot, xx, yy [innerBlock]float64
	m := len(dst)
	// Rows go in groups: a group's runs stay in cache while the kernel
	// walks down them column by column, and memory is still read in order.
	const rowGroup = 16
	for k0 := 0; k0 < x.Len; k0 += rowGroup {
		n := min(rowGroup, x.Len-k0)
		xb, yb := x.base(o, i0)+k0*x.LenStride, y.base(o, i0)+k0*y.LenStride
		xEnd, yEnd := xb+(n-1)*x.LenStride+m, yb+(n-1)*y.LenStride+m
		columnSums(dot[:m], xx[:m], yy[:m], x.Data[xb:xEnd], y.Data[yb:yEnd], n, x.LenStride, y.LenStride)
	}
	for j := range dst {
		dst[j] = pairSums{dot: dot[j], xx: xx[j], yy: yy[j]}
	}
}
