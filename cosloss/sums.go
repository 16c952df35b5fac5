package cosloss

import (
	"math/bits"
	"sync"
	"sync/atomic"

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

// A call's sums blocks come from blockSlots, each claimed and released
// with an atomic bit: no allocation (a block handed to a body escapes to
// the heap, and allocating one per call would cost more than a short row's
// arithmetic) and no lock. A fork()ed child needs both: its collector is
// off, and a lock held at the fork by a thread the fork lost is never
// released (sync.Pool takes the scheduler's lock for a processor it has not
// served since the last collection). Calls beyond len(blockSlots) at once
// share blockPool.
var (
	blockSlots [16]sumsBlock
	slotsInUse atomic.Uint32
	blockPool  = sync.Pool{New: func() any { return new(sumsBlock) }}
)

// getBlock returns a free block and its slot (-1 for one from blockPool).
func getBlock() (*sumsBlock, int) {
	const all = 1<<len(blockSlots) - 1
	for {
		used := slotsInUse.Load()
		free := ^used & all
		if free == 0 {
			return blockPool.Get().(*sumsBlock), -1
		}
		i := bits.TrailingZeros32(free)
		if slotsInUse.CompareAndSwap(used, used|1<<i) {
			return &blockSlots[i], i
		}
	}
}

// putBlock releases what getBlock returned.
func putBlock(b *sumsBlock, slot int) {
	if slot < 0 {
		blockPool.Put(b)
		return
	}
	slotsInUse.And(^uint32(1 << slot))
}

// rowBlock is how many contiguous rows are gathered into one block: their
// square roots and divisions then run together, as vectors.
const rowBlock = 64

// A blockBody consumes the sums of consecutive slices, numbered as outputs
// are (slice (o, i) is o*Inner + i): dot[j], xx[j] and yy[j] belong to
// slice first+j. Each slice is in exactly one block, so a body may write
// its slices' outputs, and may overwrite the block.
type blockBody interface {
	block(first int, dot, xx, yy []float64)
}

// A sliceBody consumes the sums of one slice, by its (o, i).
type sliceBody interface {
	slice(o, i int, s pairSums)
}

// forEachBlock calls body.block with the sums of every slice of x and y,
// a block at a time. Large calls run across workers (splitRange,
// forEachTask).
func forEachBlock[T Float, B blockBody](x, y View[T], body B) {
	if x.Len == 0 {
		// Nothing to read (and Data may be empty): every sum is 0.
		b, slot := getBlock()
		defer putBlock(b, slot)
		for first := 0; first < x.Slices(); first += innerBlock {
			m := min(innerBlock, x.Slices()-first)
			clear(b.dot[:m])
			clear(b.xx[:m])
			clear(b.yy[:m])
			body.block(first, b.dot[:m], b.xx[:m], b.yy[:m])
		}
		return
	}
	if x.Inner == 1 && x.unitRows() && y.unitRows() {
		// Contiguous rows, the common case: straight to the kernel, without
		// the per-slice view arithmetic, which costs as much as a short row.
		splitRange(x.Outer, x.Size(), rowBlocks[T, B]{x, y, body})
		return
	}
	forEachTask(x.Layout, columnBlocks[T, B]{x, y, body})
}

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
		for k := range m {
			xb, yb := (first+k)*x.OuterStride, (first+k)*y.OuterStride
			s := unitSums(x.Data[xb:xb+n], y.Data[yb:yb+n])
			b.dot[k], b.xx[k], b.yy[k] = s.dot, s.xx, s.yy
		}
		j.body.block(first, b.dot[:m], b.xx[:m], b.yy[:m])
	}
}

// columnBlocks is forEachBlock's task body for every other layout: the
// slices (o, i0..i1-1), summed across rows where the reduced axis is not
// the last and slice by slice otherwise.
type columnBlocks[T Float, B blockBody] struct {
	x, y View[T]
	body B
}

func (j columnBlocks[T, B]) task(o, i0, i1 int) {
	x, y := j.x, j.y
	b, slot := getBlock()
	defer putBlock(b, slot)
	m := i1 - i0
	dot, xx, yy := b.dot[:m], b.xx[:m], b.yy[:m]
	if m > 1 && acrossRows(x) && acrossRows(y) {
		sumsAcross(x, y, o, i0, dot, xx, yy)
	} else {
		for k := range m {
			s := sliceSums(x, y, o, i0+k)
			dot[k], xx[k], yy[k] = s.dot, s.xx, s.yy
		}
	}
	j.body.block(o*x.Inner+i0, dot, xx, yy)
}

// forEachSlice is forEachBlock for bodies that take one slice at a time.
func forEachSlice[T Float, B sliceBody](x, y View[T], body B) {
	if x.Len > 0 && x.Inner == 1 && x.unitRows() && y.unitRows() {
		// Contiguous rows go to body one by one, straight after their sums:
		// the gradients read each row again, and it is then still in L1
		// (gathering rows in blocks first made CosineGrad 20% slower).
		splitRange(x.Outer, x.Size(), rowSlices[T, B]{x, y, body})
		return
	}
	forEachBlock(x, y, blockSlices[B]{x.Inner, body})
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

// blockSlices hands a block's slices to a sliceBody one at a time.
type blockSlices[B sliceBody] struct {
	inner int
	body  B
}

func (j blockSlices[B]) block(first int, dot, xx, yy []float64) {
	o, i := first/j.inner, first%j.inner
	for k := range dot {
		j.body.slice(o, i, pairSums{dot: dot[k], xx: xx[k], yy: yy[k]})
		if i++; i == j.inner {
			o, i = o+1, 0
		}
	}
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
