package cosloss

import "gonum.org/v1/gonum/blas/gonum"

// Row sums: Σx·y, Σx² and Σy² along one slice at a time, where a slice is
// a run along the reduced axis, contiguous or strided. Contiguous rows go
// to the kernel set (unitSums); strided ones to gonum's strided dot
// products, block by block; broadcast ones to a scalar loop.

// blas is gonum's pure-Go BLAS with amd64 assembly for the dot products.
var blas gonum.Implementation

// pairSums holds the three reductions a cosine needs along one slice:
// Σx·y, Σx² and Σy², accumulated in float64.
type pairSums struct {
	dot, xx, yy float64
}

func (s *pairSums) add(t pairSums) {
	s.dot += t.dot
	s.xx += t.xx
	s.yy += t.yy
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

// rowBlock is how many contiguous rows are gathered into one block: their
// square roots and divisions then run together, as vectors.
const rowBlock = 64

// rowBlocks is forEachBlock's job for contiguous rows: rows [o0, o1) in
// groups of rowBlock.
type rowBlocks[T Float, B blockBody] struct {
	x, y View[T]
	body B
}

func (j rowBlocks[T, B]) run(o0, o1 int) {
	x, y, n := j.x, j.y, j.x.Len
	b, slot := getBlock()
	defer putBlock(b, slot)
	for first := o0; first < o1; first += rowBlock {
		m := min(rowBlock, o1-first)
		xb, yb := first*x.OuterStride, first*y.OuterStride
		xEnd, yEnd := xb+(m-1)*x.OuterStride+n, yb+(m-1)*y.OuterStride+n
		rowSums(b.dot[:m], b.xx[:m], b.yy[:m], x.Data[xb:xEnd], y.Data[yb:yEnd], n, x.OuterStride, y.OuterStride)
		j.body.block(first, b.dot[:m], b.xx[:m], b.yy[:m])
	}
}

// rowSlices is forEachSlice's job for contiguous rows.
type rowSlices[T Float, B sliceBody] struct {
	x, y View[T]
	body B
}

func (j rowSlices[T, B]) run(o0, o1 int) {
	x, y, n := j.x, j.y, j.x.Len
	for o := o0; o < o1; o++ {
		xb, yb := o*x.OuterStride, o*y.OuterStride
		j.body.slice(o, 0, unitSums(x.Data[xb:xb+n], y.Data[yb:yb+n]))
	}
}
