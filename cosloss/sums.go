package cosloss

import (
	"sync"

	"gonum.org/v1/gonum/blas/gonum"
)

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

// sumsBlock holds the sums of up to innerBlock consecutive slices, one
// array per sum so the kernel set can finish them a vector at a time.
type sumsBlock struct {
	dot, xx, yy [innerBlock]float64
}

// blockPool recycles sumsBlocks. A block handed to a body escapes to the
// heap, and allocating one per call would cost more than a short row's
// arithmetic.
var blockPool = sync.Pool{New: func() any { return new(sumsBlock) }}

// rowBlock is how many contiguous rows are gathered into one block: their
// square roots and divisions then run together, as vectors.
const rowBlock = 64

// forEachBlock calls body with the sums of consecutive slices, numbered as
// outputs are (slice (o, i) is o*Inner + i): dot[j], xx[j] and yy[j]
// belong to slice first+j. Large calls run across workers (splitRange,
// forEachTask); each slice is in exactly one block, so bodies may write
// their slices' outputs, and may overwrite the block.
func forEachBlock[T Float](x, y View[T], body func(first int, dot, xx, yy []float64)) {
	if x.Len == 0 {
		// Nothing to read (and Data may be empty): every sum is 0.
		b := blockPool.Get().(*sumsBlock)
		defer blockPool.Put(b)
		for first := 0; first < x.Slices(); first += innerBlock {
			m := min(innerBlock, x.Slices()-first)
			clear(b.dot[:m])
			clear(b.xx[:m])
			clear(b.yy[:m])
			body(first, b.dot[:m], b.xx[:m], b.yy[:m])
		}
		return
	}
	if x.Inner == 1 && x.unitRows() && y.unitRows() {
		// Contiguous rows, the common case: straight to the kernel, without
		// the per-slice view arithmetic, which costs as much as a short row.
		n := x.Len
		splitRange(x.Outer, x.Size(), func(o0, o1 int) {
			b := blockPool.Get().(*sumsBlock)
			defer blockPool.Put(b)
			for first := o0; first < o1; first += rowBlock {
				m := min(rowBlock, o1-first)
				for j := range m {
					xb, yb := (first+j)*x.OuterStride, (first+j)*y.OuterStride
					s := unitSums(x.Data[xb:xb+n], y.Data[yb:yb+n])
					b.dot[j], b.xx[j], b.yy[j] = s.dot, s.xx, s.yy
				}
				body(first, b.dot[:m], b.xx[:m], b.yy[:m])
			}
		})
		return
	}
	forEachTask(x.Layout, func(o, i0, i1 int) {
		b := blockPool.Get().(*sumsBlock)
		defer blockPool.Put(b)
		m := i1 - i0
		dot, xx, yy := b.dot[:m], b.xx[:m], b.yy[:m]
		if m > 1 && acrossRows(x) && acrossRows(y) {
			sumsAcross(x, y, o, i0, dot, xx, yy)
		} else {
			for j := range m {
				s := sliceSums(x, y, o, i0+j)
				dot[j], xx[j], yy[j] = s.dot, s.xx, s.yy
			}
		}
		body(o*x.Inner+i0, dot, xx, yy)
	})
}

// forEachSlice is forEachBlock for bodies that take one slice at a time,
// by its (o, i).
func forEachSlice[T Float](x, y View[T], body func(o, i int, s pairSums)) {
	if x.Len > 0 && x.Inner == 1 && x.unitRows() && y.unitRows() {
		// Contiguous rows go to body one by one, straight after their sums:
		// the gradients read each row again, and it is then still in L1
		// (gathering rows in blocks first made CosineGrad 20% slower).
		n := x.Len
		splitRange(x.Outer, x.Size(), func(o0, o1 int) {
			for o := o0; o < o1; o++ {
				xb, yb := o*x.OuterStride, o*y.OuterStride
				body(o, 0, unitSums(x.Data[xb:xb+n], y.Data[yb:yb+n]))
			}
		})
		return
	}
	forEachBlock(x, y, func(first int, dot, xx, yy []float64) {
		o, i := first/x.Inner, first%x.Inner
		for j := range dot {
			body(o, i, pairSums{dot: dot[j], xx: xx[j], yy: yy[j]})
			if i++; i == x.Inner {
				o, i = o+1, 0
			}
		}
	})
}

// acrossRows reports whether neighbouring slices are contiguous, so their
// sums can accumulate as vectors: the reduced axis is not the last one.
func acrossRows[T Float](v View[T]) bool {
	return v.InnerStride == 1 && v.LenStride != 0
}

// sumsAcross writes the sums of slices (o, ·, i0+j) into dot[j], xx[j],
// yy[j]. Their elements lie in contiguous runs x[o, k, i0:i0+m] for each
// step k along the axis, which the kernel set sums column by column.
func sumsAcross[T Float](x, y View[T], o, i0 int, dot, xx, yy []float64) {
	m := len(dot)
	clear(dot)
	clear(xx)
	clear(yy)
	// Rows go to the kernel in groups of 16, which bounds how many
	// additions the float32 kernel makes before widening to float64.
	const rowGroup = 16
	for k0 := 0; k0 < x.Len; k0 += rowGroup {
		n := min(rowGroup, x.Len-k0)
		xb, yb := x.base(o, i0)+k0*x.LenStride, y.base(o, i0)+k0*y.LenStride
		xEnd, yEnd := xb+(n-1)*x.LenStride+m, yb+(n-1)*y.LenStride+m
		columnSums(dot, xx, yy, x.Data[xb:xEnd], y.Data[yb:yEnd], n, x.LenStride, y.LenStride)
	}
}
