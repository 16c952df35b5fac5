package cosloss

import (
	"math/bits"
	"sync"
	"sync/atomic"
)

// The walk that hands every slice's sums to a body: forEachBlock and
// forEachSlice pick the row path (rowsums.go) for contiguous rows and the
// column path (colsums.go) for every other layout, and split large calls
// across workers (parallel.go).

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
