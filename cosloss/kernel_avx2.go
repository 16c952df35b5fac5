//go:build goexperiment.simd && amd64

package cosloss

import (
	"simd/archsimd"
	"unsafe"
)

// The AVX2 kernel set (Go 1.26's experimental simd/archsimd): Σx·y, Σx² and
// Σy² from one load of each vector, in the canonical order of kernel.go.
// float32 inputs widen to float64 as they load (VCVTPS2PD), so the sums are
// float64 throughout, and the canonical 16 lanes are four Float64x4.
//
// The vector code is split into sections, the functions named avx2*Section
// (and avx512*Section in the AVX-512 set), which follow one rule: a
// section takes pointers and counts, holds floats only in vectors, writes
// its results with vector stores and ends with archsimd.ClearAVXUpperBits
// (VZEROUPPER). Everything scalar (bounds checks, tails done in Go, pairSums)
// runs in the callers, outside sections. The rule is for Intel cores: a
// legacy-SSE instruction (Go's scalar float code) issued while the upper
// halves of the vector registers are dirty pays a transition penalty or a
// false dependency, on every row, and Go 1.26 inserts no VZEROUPPER of its
// own. Calling ClearAVXUpperBits is not enough inside code that mixes
// vectors and scalars: the compiler may schedule a scalar spill before it.
// TestSIMDSectionsClearUpperBits (kernel_asm_test.go) disassembles the
// built package and fails on any path from a 256- or 512-bit instruction to
// an SSE instruction, a call or a return without a VZEROUPPER between.
//
// Sections load through unsafe pointers rather than archsimd's slice loads,
// which re-slice and bounds-check every vector (in cache that costs as much
// as the arithmetic); their callers check the extent once. Row tails load
// with masks, which read nothing outside the row.

func init() {
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		registerKernel(kernelSet{
			name:    "avx2",
			sums32:  avx2Sums32,
			sums64:  avx2Sums64,
			rows32:  avx2Rows32,
			rows64:  avx2Rows64,
			comb32:  avx2Comb32,
			comb64:  avx2Comb64,
			cols32:  avx2Cols32,
			cols64:  avx2Cols64,
			cosines: avx2Cosines,
			scale32: avx2Scale32,
			scale64: avx2Scale64,
			above32: avx2Above32,
			above64: avx2Above64,
			gemm32:  gemmKernel[float32]{mr: 4, nr: 16, kc: 256, mc: 256, nc: 2048, tile: avx2Tile32},
			gemm64:  gemmKernel[float64]{mr: 4, nr: 8, kc: 256, mc: 128, nc: 1024, tile: avx2Tile64},
			expSum:  expSumPortable, // no AVX2 exp yet: the portable loop, the same bits
		})
	}
}

// base is the address of s[0]; callers index it only below a length they
// have checked against s.
func base[T Float](s []T) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(s)) }

func at32x4(p unsafe.Pointer, k int) *[4]float32 { return (*[4]float32)(unsafe.Add(p, 4*k)) }
func at32x8(p unsafe.Pointer, k int) *[8]float32 { return (*[8]float32)(unsafe.Add(p, 4*k)) }
func at64x4(p unsafe.Pointer, k int) *[4]float64 { return (*[4]float64)(unsafe.Add(p, 8*k)) }

// wide32 loads x[k:k+4] as float64s.
func wide32(p unsafe.Pointer, k int) archsimd.Float64x4 {
	return archsimd.LoadFloat32x4(at32x4(p, k)).ConvertToFloat64()
}

func load64(p unsafe.Pointer, k int) archsimd.Float64x4 {
	return archsimd.LoadFloat64x4(at64x4(p, k))
}

// rowsToDo checks the extent of a rows call (checkRows) and reports
// whether there is anything to add: rows of no elements have zero sums.
func rowsToDo[T Float](dot, xx, yy []float64, x, y []T, n, xStride, yStride int) bool {
	checkRows(dot, xx, yy, x, y, n, xStride, yStride)
	if n == 0 {
		clear(dot)
		clear(xx)
		clear(yy)
	}
	return n > 0 && len(dot) > 0
}

// checkRows panics unless x and y hold len(dot) rows of n elements, stride
// apart: the sections read nothing outside them.
func checkRows[T Float](dot, xx, yy []float64, x, y []T, n, xStride, yStride int) {
	rows := len(dot)
	_, _ = xx[:rows], yy[:rows]
	if rows > 0 && n > 0 {
		_, _ = x[(rows-1)*xStride+n-1], y[(rows-1)*yStride+n-1]
	}
}

// rowResults holds a block's row sums as a section writes them: dot, xx,
// yy and a copy of yy for each row, one vector store a row. (Storing
// straight into the three sums, eight rows at a time after a transposing
// reduction, was 10-20% faster in cache but no faster end to end, and
// more code.)
type rowResults [rowBlock][4]float64

// unpackRows copies a section's results into the sums.
func unpackRows(r *rowResults, dot, xx, yy []float64) {
	for k := range dot {
		dot[k], xx[k], yy[k] = r[k][0], r[k][1], r[k][2]
	}
}

// The rows kernels call their sections directly, block by block, one
// near-copy per set and dtype: a shared helper taking the section as a
// function value made the results array escape to the heap, an allocation
// per call (the binding's TestCallsAllocateNothing caught it).

func avx2Rows32(dot, xx, yy []float64, x, y []float32, n, xStride, yStride int) {
	if !rowsToDo(dot, xx, yy, x, y, n, xStride, yStride) {
		return
	}
	var r rowResults
	for first := 0; first < len(dot); first += rowBlock {
		m := min(rowBlock, len(dot)-first)
		avx2Rows32Section(unsafe.Pointer(&r), base(x[first*xStride:]), base(y[first*yStride:]), m, n, xStride, yStride)
		unpackRows(&r, dot[first:first+m], xx[first:first+m], yy[first:first+m])
	}
}

func avx2Rows64(dot, xx, yy []float64, x, y []float64, n, xStride, yStride int) {
	if !rowsToDo(dot, xx, yy, x, y, n, xStride, yStride) {
		return
	}
	var r rowResults
	for first := 0; first < len(dot); first += rowBlock {
		m := min(rowBlock, len(dot)-first)
		avx2Rows64Section(unsafe.Pointer(&r), base(x[first*xStride:]), base(y[first*yStride:]), m, n, xStride, yStride)
		unpackRows(&r, dot[first:first+m], xx[first:first+m], yy[first:first+m])
	}
}

func avx2Sums32(x, y []float32) pairSums {
	var r [4]float64
	if n := len(x); n > 0 {
		_ = y[n-1]
		avx2Rows32Section(unsafe.Pointer(&r), base(x), base(y), 1, n, 0, 0)
	}
	return pairSums{dot: r[0], xx: r[1], yy: r[2]}
}

func avx2Sums64(x, y []float64) pairSums {
	var r [4]float64
	if n := len(x); n > 0 {
		_ = y[n-1]
		avx2Rows64Section(unsafe.Pointer(&r), base(x), base(y), 1, n, 0, 0)
	}
	return pairSums{dot: r[0], xx: r[1], yy: r[2]}
}

// sums3 holds the running sums of one group of lanes: Σx·y, Σx², Σy².
type sums3 struct{ d, a, b archsimd.Float64x4 }

// fused adds x·y, x², y² (float32 inputs widened: the products are exact,
// so one FMA each gives the canonical bits).
func (s sums3) fused(xv, yv archsimd.Float64x4) sums3 {
	return sums3{xv.MulAdd(yv, s.d), xv.MulAdd(xv, s.a), yv.MulAdd(yv, s.b)}
}

// rounded adds x·y, x², y² with each product rounded first (float64 inputs).
func (s sums3) rounded(xv, yv archsimd.Float64x4) sums3 {
	return sums3{s.d.Add(xv.Mul(yv)), s.a.Add(xv.Mul(xv)), s.b.Add(yv.Mul(yv))}
}

// total4 takes one sum's 16 canonical lanes (l0 holds lanes 0-3, l1 4-7,
// l2 8-11, l3 12-15) down the canonical tree to its last pair, which
// storeTotals adds.
func total4(l0, l1, l2, l3 archsimd.Float64x4) archsimd.Float64x2 {
	h := l0.Add(l2).Add(l1.Add(l3))
	return h.GetLo().Add(h.GetHi())
}

// storeTotals stores dot, xx, yy, yy from the three sums' last pairs.
func storeTotals(out unsafe.Pointer, r int, d, a, b archsimd.Float64x2) {
	archsimd.Float64x4{}.SetLo(d.AddPairs(a)).SetHi(b.AddPairs(b)).Store((*[4]float64)(unsafe.Add(out, 32*r)))
}

// tailMask32 masks the lanes of the 4-element chunk at offset c of a tail
// of t elements.
func tailMask32(t, c int) archsimd.Mask32x4 {
	return archsimd.LoadInt32x4(&lanes32).Less(archsimd.BroadcastInt32x4(int32(t - c)))
}

func tailMask64(t, c int) archsimd.Mask64x4 {
	return archsimd.LoadInt64x4(&lanes64).Less(archsimd.BroadcastInt64x4(int64(t - c)))
}

// Lane numbers, for the tail masks: package variables, as a literal would
// be built on the stack with SSE stores inside the section.
var (
	lanes32 = [4]int32{0, 1, 2, 3}
	lanes64 = [4]int64{0, 1, 2, 3}
)

// tail32 loads the chunk at offset c of a tail of t elements at p, zeros
// past its end.
func tail32(p unsafe.Pointer, c int, m archsimd.Mask32x4) archsimd.Float64x4 {
	return archsimd.LoadMaskedFloat32x4(at32x4(p, c), m).ConvertToFloat64()
}

func tail64(p unsafe.Pointer, c int, m archsimd.Mask64x4) archsimd.Float64x4 {
	return archsimd.LoadMaskedFloat64x4(at64x4(p, c), m)
}

// avx2Rows32Section writes the sums of rows rows of n float32s into out,
// a [rows][4]float64 (dot, xx, yy, yy).
// The 12 accumulators and two loaded vectors fill the 15 ymm registers Go
// allocates (X15 is its zero register): hence the sums written out one by one.
//
//go:noinline
//go:nocheckptr
func avx2Rows32Section(out, px, py unsafe.Pointer, rows, n, xStride, yStride int) {
	// nocheckptr: a masked tail load's array may extend past the row; it
	// reads only its mask's lanes.
	full := n &^ 15
	t := n - full
	for r := range rows {
		x, y := unsafe.Add(px, 4*r*xStride), unsafe.Add(py, 4*r*yStride)
		var d0, d1, d2, d3, a0, a1, a2, a3, b0, b1, b2, b3 archsimd.Float64x4
		for k := 0; k < full; k += 16 {
			xv, yv := wide32(x, k), wide32(y, k)
			d0, a0, b0 = xv.MulAdd(yv, d0), xv.MulAdd(xv, a0), yv.MulAdd(yv, b0)
			xv, yv = wide32(x, k+4), wide32(y, k+4)
			d1, a1, b1 = xv.MulAdd(yv, d1), xv.MulAdd(xv, a1), yv.MulAdd(yv, b1)
			xv, yv = wide32(x, k+8), wide32(y, k+8)
			d2, a2, b2 = xv.MulAdd(yv, d2), xv.MulAdd(xv, a2), yv.MulAdd(yv, b2)
			xv, yv = wide32(x, k+12), wide32(y, k+12)
			d3, a3, b3 = xv.MulAdd(yv, d3), xv.MulAdd(xv, a3), yv.MulAdd(yv, b3)
		}
		if t > 0 {
			xt, yt := unsafe.Add(x, 4*full), unsafe.Add(y, 4*full)
			xv, yv := wide32(xt, 0), wide32(yt, 0) // a whole chunk: no mask needed
			if t < 4 {
				xv, yv = tail32(xt, 0, tailMask32(t, 0)), tail32(yt, 0, tailMask32(t, 0))
			}
			d0, a0, b0 = xv.MulAdd(yv, d0), xv.MulAdd(xv, a0), yv.MulAdd(yv, b0)
			if t > 4 {
				xv, yv = wide32(xt, 4), wide32(yt, 4)
				if t < 8 {
					xv, yv = tail32(xt, 4, tailMask32(t, 4)), tail32(yt, 4, tailMask32(t, 4))
				}
				d1, a1, b1 = xv.MulAdd(yv, d1), xv.MulAdd(xv, a1), yv.MulAdd(yv, b1)
			}
			if t > 8 {
				xv, yv = wide32(xt, 8), wide32(yt, 8)
				if t < 12 {
					xv, yv = tail32(xt, 8, tailMask32(t, 8)), tail32(yt, 8, tailMask32(t, 8))
				}
				d2, a2, b2 = xv.MulAdd(yv, d2), xv.MulAdd(xv, a2), yv.MulAdd(yv, b2)
			}
			if t > 12 {
				xv, yv = tail32(xt, 12, tailMask32(t, 12)), tail32(yt, 12, tailMask32(t, 12))
				d3, a3, b3 = xv.MulAdd(yv, d3), xv.MulAdd(xv, a3), yv.MulAdd(yv, b3)
			}
		}
		storeTotals(out, r, total4(d0, d1, d2, d3), total4(a0, a1, a2, a3), total4(b0, b1, b2, b3))
	}
	archsimd.ClearAVXUpperBits()
}

// avx2Rows64Section is avx2Rows32Section for float64, the products rounded
// before they are added (Mul then Add), as the canonical order says.
//
//go:noinline
//go:nocheckptr
func avx2Rows64Section(out, px, py unsafe.Pointer, rows, n, xStride, yStride int) {
	full := n &^ 15
	t := n - full
	for r := range rows {
		x, y := unsafe.Add(px, 8*r*xStride), unsafe.Add(py, 8*r*yStride)
		var d0, d1, d2, d3, a0, a1, a2, a3, b0, b1, b2, b3 archsimd.Float64x4
		for k := 0; k < full; k += 16 {
			xv, yv := load64(x, k), load64(y, k)
			d0, a0, b0 = d0.Add(xv.Mul(yv)), a0.Add(xv.Mul(xv)), b0.Add(yv.Mul(yv))
			xv, yv = load64(x, k+4), load64(y, k+4)
			d1, a1, b1 = d1.Add(xv.Mul(yv)), a1.Add(xv.Mul(xv)), b1.Add(yv.Mul(yv))
			xv, yv = load64(x, k+8), load64(y, k+8)
			d2, a2, b2 = d2.Add(xv.Mul(yv)), a2.Add(xv.Mul(xv)), b2.Add(yv.Mul(yv))
			xv, yv = load64(x, k+12), load64(y, k+12)
			d3, a3, b3 = d3.Add(xv.Mul(yv)), a3.Add(xv.Mul(xv)), b3.Add(yv.Mul(yv))
		}
		if t > 0 {
			xt, yt := unsafe.Add(x, 8*full), unsafe.Add(y, 8*full)
			xv, yv := load64(xt, 0), load64(yt, 0) // a whole chunk: no mask needed
			if t < 4 {
				xv, yv = tail64(xt, 0, tailMask64(t, 0)), tail64(yt, 0, tailMask64(t, 0))
			}
			d0, a0, b0 = d0.Add(xv.Mul(yv)), a0.Add(xv.Mul(xv)), b0.Add(yv.Mul(yv))
			if t > 4 {
				xv, yv = load64(xt, 4), load64(yt, 4)
				if t < 8 {
					xv, yv = tail64(xt, 4, tailMask64(t, 4)), tail64(yt, 4, tailMask64(t, 4))
				}
				d1, a1, b1 = d1.Add(xv.Mul(yv)), a1.Add(xv.Mul(xv)), b1.Add(yv.Mul(yv))
			}
			if t > 8 {
				xv, yv = load64(xt, 8), load64(yt, 8)
				if t < 12 {
					xv, yv = tail64(xt, 8, tailMask64(t, 8)), tail64(yt, 8, tailMask64(t, 8))
				}
				d2, a2, b2 = d2.Add(xv.Mul(yv)), a2.Add(xv.Mul(xv)), b2.Add(yv.Mul(yv))
			}
			if t > 12 {
				xv, yv = tail64(xt, 12, tailMask64(t, 12)), tail64(yt, 12, tailMask64(t, 12))
				d3, a3, b3 = d3.Add(xv.Mul(yv)), a3.Add(xv.Mul(xv)), b3.Add(yv.Mul(yv))
			}
		}
		storeTotals(out, r, total4(d0, d1, d2, d3), total4(a0, a1, a2, a3), total4(b0, b1, b2, b3))
	}
	archsimd.ClearAVXUpperBits()
}

func avx2Comb32(dst, a, b []float32, s, p float32) {
	n := len(a)
	b, dst = b[:n], dst[:n]
	full := n &^ 7
	sp := [2]float32{s, p}
	avx2Comb32Section(base(dst), base(a), base(b), &sp, full)
	combPortable(dst[full:], a[full:], b[full:], s, p)
}

//go:noinline
func avx2Comb32Section(pd, pa, pb unsafe.Pointer, sp *[2]float32, n int) {
	vs, vp := archsimd.BroadcastFloat32x8(sp[0]), archsimd.BroadcastFloat32x8(sp[1])
	for k := 0; k < n; k += 8 {
		av, bv := archsimd.LoadFloat32x8(at32x8(pa, k)), archsimd.LoadFloat32x8(at32x8(pb, k))
		av.Mul(vs).Sub(bv.Mul(vp)).Store(at32x8(pd, k))
	}
	archsimd.ClearAVXUpperBits()
}

func avx2Comb64(dst, a, b []float64, s, p float64) {
	n := len(a)
	b, dst = b[:n], dst[:n]
	full := n &^ 3
	sp := [2]float64{s, p}
	avx2Comb64Section(base(dst), base(a), base(b), &sp, full)
	combPortable(dst[full:], a[full:], b[full:], s, p)
}

//go:noinline
func avx2Comb64Section(pd, pa, pb unsafe.Pointer, sp *[2]float64, n int) {
	vs, vp := archsimd.BroadcastFloat64x4(sp[0]), archsimd.BroadcastFloat64x4(sp[1])
	for k := 0; k < n; k += 4 {
		load64(pa, k).Mul(vs).Sub(load64(pb, k).Mul(vp)).Store(at64x4(pd, k))
	}
	archsimd.ClearAVXUpperBits()
}

// checkCols panics unless x and y hold n rows (stride apart) of m columns:
// the column kernels below read nothing outside that.
func checkCols[T Float](dot, xx, yy []float64, x, y []T, n, xStride, yStride int) {
	m := len(dot)
	_, _ = xx[:m], yy[:m]
	if n > 0 && m > 0 {
		_, _ = x[(n-1)*xStride+m-1], y[(n-1)*yStride+m-1]
	}
}

// The column kernels add n rows into the sums of m = len(dot) neighbouring
// columns. They take the rows four at a time, each four sweeping the whole
// block of columns: memory is then read as eight long runs (four rows of x
// and of y), which the hardware prefetcher follows, and the running sums
// stay in cache. Walking a few columns down all n rows instead reads 2n
// short runs at once, which the prefetcher cannot track: at 256×100000
// float32 that took 11 ms against 7.5 ms this way. Columns past the last
// whole vector go to colsPortable, after the section: each column's sum
// still adds its rows in order.

func loadSums(pd, pa, pb unsafe.Pointer, j int) sums3 {
	return sums3{load64(pd, j), load64(pa, j), load64(pb, j)}
}

func (s sums3) store(pd, pa, pb unsafe.Pointer, j int) {
	s.d.Store(at64x4(pd, j))
	s.a.Store(at64x4(pa, j))
	s.b.Store(at64x4(pb, j))
}

func avx2Cols32(dot, xx, yy []float64, x, y []float32, n, xStride, yStride int) {
	checkCols(dot, xx, yy, x, y, n, xStride, yStride)
	m := len(dot)
	full := m &^ 3
	if n > 0 && full > 0 {
		avx2Cols32Section(base(dot), base(xx), base(yy), base(x), base(y), full, n, xStride, yStride)
	}
	if full < m {
		colsPortable(dot[full:], xx[full:], yy[full:], x[full:], y[full:], n, xStride, yStride)
	}
}

func avx2Cols64(dot, xx, yy []float64, x, y []float64, n, xStride, yStride int) {
	checkCols(dot, xx, yy, x, y, n, xStride, yStride)
	m := len(dot)
	full := m &^ 3
	if n > 0 && full > 0 {
		avx2Cols64Section(base(dot), base(xx), base(yy), base(x), base(y), full, n, xStride, yStride)
	}
	if full < m {
		colsPortable(dot[full:], xx[full:], yy[full:], x[full:], y[full:], n, xStride, yStride)
	}
}

// avx2Cols32Section adds n rows of float32s into the sums of m columns (a
// multiple of 4).
//
//go:noinline
func avx2Cols32Section(pd, pa, pb, px, py unsafe.Pointer, m, n, xStride, yStride int) {
	k := 0
	for ; k+4 <= n; k += 4 {
		x0, x1, x2, x3 := unsafe.Add(px, 4*k*xStride), unsafe.Add(px, 4*(k+1)*xStride), unsafe.Add(px, 4*(k+2)*xStride), unsafe.Add(px, 4*(k+3)*xStride)
		y0, y1, y2, y3 := unsafe.Add(py, 4*k*yStride), unsafe.Add(py, 4*(k+1)*yStride), unsafe.Add(py, 4*(k+2)*yStride), unsafe.Add(py, 4*(k+3)*yStride)
		for j := 0; j < m; j += 4 {
			s := loadSums(pd, pa, pb, j)
			s = s.fused(wide32(x0, j), wide32(y0, j))
			s = s.fused(wide32(x1, j), wide32(y1, j))
			s = s.fused(wide32(x2, j), wide32(y2, j))
			s = s.fused(wide32(x3, j), wide32(y3, j))
			s.store(pd, pa, pb, j)
		}
	}
	for ; k < n; k++ {
		x0, y0 := unsafe.Add(px, 4*k*xStride), unsafe.Add(py, 4*k*yStride)
		for j := 0; j < m; j += 4 {
			loadSums(pd, pa, pb, j).fused(wide32(x0, j), wide32(y0, j)).store(pd, pa, pb, j)
		}
	}
	archsimd.ClearAVXUpperBits()
}

// avx2Cols64Section is avx2Cols32Section for float64 inputs.
//
//go:noinline
func avx2Cols64Section(pd, pa, pb, px, py unsafe.Pointer, m, n, xStride, yStride int) {
	k := 0
	for ; k+4 <= n; k += 4 {
		x0, x1, x2, x3 := unsafe.Add(px, 8*k*xStride), unsafe.Add(px, 8*(k+1)*xStride), unsafe.Add(px, 8*(k+2)*xStride), unsafe.Add(px, 8*(k+3)*xStride)
		y0, y1, y2, y3 := unsafe.Add(py, 8*k*yStride), unsafe.Add(py, 8*(k+1)*yStride), unsafe.Add(py, 8*(k+2)*yStride), unsafe.Add(py, 8*(k+3)*yStride)
		for j := 0; j < m; j += 4 {
			s := loadSums(pd, pa, pb, j)
			s = s.rounded(load64(x0, j), load64(y0, j))
			s = s.rounded(load64(x1, j), load64(y1, j))
			s = s.rounded(load64(x2, j), load64(y2, j))
			s = s.rounded(load64(x3, j), load64(y3, j))
			s.store(pd, pa, pb, j)
		}
	}
	for ; k < n; k++ {
		x0, y0 := unsafe.Add(px, 8*k*xStride), unsafe.Add(py, 8*k*yStride)
		for j := 0; j < m; j += 4 {
			loadSums(pd, pa, pb, j).rounded(load64(x0, j), load64(y0, j)).store(pd, pa, pb, j)
		}
	}
	archsimd.ClearAVXUpperBits()
}

// avx2Cosines finishes four slices at a time: their square roots and
// divisions overlap, where one slice at a time waits on each in turn. The
// operations are IEEE's, so results equal cosinesPortable's bit for bit.
func avx2Cosines(dot, xx, yy []float64, eps float64) {
	n := len(dot)
	xx, yy = xx[:n], yy[:n]
	full := n &^ 3
	e := [1]float64{eps}
	avx2CosinesSection(base(dot), base(xx), base(yy), &e, full)
	cosinesPortable(dot[full:], xx[full:], yy[full:], eps)
}

//go:noinline
func avx2CosinesSection(pd, pa, pb unsafe.Pointer, eps *[1]float64, n int) {
	e := archsimd.BroadcastFloat64x4(eps[0])
	for j := 0; j < n; j += 4 {
		p := load64(pa, j).Max(e).Mul(load64(pb, j).Max(e))
		load64(pd, j).Div(p.Sqrt()).Store(at64x4(pd, j))
	}
	archsimd.ClearAVXUpperBits()
}

// The all-pairs epilogue and the threshold pass (see kernel_avx512.go) on
// 256-bit vectors.
func avx2Scale32(row []float32, a float64, r []float64, rFirst bool) {
	n := len(row)
	r = r[:n]
	full := n &^ 7
	av := [1]float64{a}
	if full > 0 {
		avx2Scale32Section(base(row), base(r), &av, full, rFirst)
	}
	scalePortable(row[full:], a, r[full:], rFirst)
}

//go:noinline
func avx2Scale32Section(pd, pr unsafe.Pointer, a *[1]float64, n int, rFirst bool) {
	va := archsimd.BroadcastFloat64x4(a[0])
	if rFirst {
		for k := 0; k < n; k += 8 {
			d0, d1 := wide32(pd, k), wide32(pd, k+4)
			d0 = d0.Mul(load64(pr, k)).Mul(va)
			d1 = d1.Mul(load64(pr, k+4)).Mul(va)
			d0.ConvertToFloat32().Store(at32x4(pd, k))
			d1.ConvertToFloat32().Store(at32x4(pd, k+4))
		}
	} else {
		for k := 0; k < n; k += 8 {
			d0, d1 := wide32(pd, k), wide32(pd, k+4)
			d0 = d0.Mul(va).Mul(load64(pr, k))
			d1 = d1.Mul(va).Mul(load64(pr, k+4))
			d0.ConvertToFloat32().Store(at32x4(pd, k))
			d1.ConvertToFloat32().Store(at32x4(pd, k+4))
		}
	}
	archsimd.ClearAVXUpperBits()
}

func avx2Scale64(row []float64, a float64, r []float64, rFirst bool) {
	n := len(row)
	r = r[:n]
	full := n &^ 7
	av := [1]float64{a}
	if full > 0 {
		avx2Scale64Section(base(row), base(r), &av, full, rFirst)
	}
	scalePortable(row[full:], a, r[full:], rFirst)
}

//go:noinline
func avx2Scale64Section(pd, pr unsafe.Pointer, a *[1]float64, n int, rFirst bool) {
	va := archsimd.BroadcastFloat64x4(a[0])
	if rFirst {
		for k := 0; k < n; k += 8 {
			load64(pd, k).Mul(load64(pr, k)).Mul(va).Store(at64x4(pd, k))
			load64(pd, k+4).Mul(load64(pr, k+4)).Mul(va).Store(at64x4(pd, k+4))
		}
	} else {
		for k := 0; k < n; k += 8 {
			load64(pd, k).Mul(va).Mul(load64(pr, k)).Store(at64x4(pd, k))
			load64(pd, k+4).Mul(va).Mul(load64(pr, k+4)).Store(at64x4(pd, k+4))
		}
	}
	archsimd.ClearAVXUpperBits()
}

func avx2Above32(row, thr []float32, idx []int32, largest bool) int {
	n := len(row)
	thr, idx = thr[:n], idx[:n]
	full := n &^ 7
	var masks [aboveMaskChunks]uint16
	count := 0
	for b := 0; b < full; b += 8 * aboveMaskChunks {
		chunks := min(full-b, 8*aboveMaskChunks) / 8
		if avx2Above32Section(&masks, unsafe.Add(base(row), 4*b), unsafe.Add(base(thr), 4*b), chunks, largest) != 0 {
			count = maskIndices(masks[:chunks], 8, b, idx, count)
		}
	}
	return count + offsetIndices(idx[count:], full, abovePortable(row[full:], thr[full:], idx[count:], largest))
}

//go:noinline
func avx2Above32Section(masks *[aboveMaskChunks]uint16, pr, pt unsafe.Pointer, chunks int, largest bool) uint16 {
	var any uint16
	for c := range chunks {
		v, t := archsimd.LoadFloat32x8(at32x8(pr, 8*c)), archsimd.LoadFloat32x8(at32x8(pt, 8*c))
		var m uint8
		if largest {
			m = ^v.LessEqual(t).ToBits()
		} else {
			m = ^v.GreaterEqual(t).ToBits()
		}
		masks[c&(aboveMaskChunks-1)] = uint16(m)
		any |= uint16(m)
	}
	archsimd.ClearAVXUpperBits()
	return any
}

func avx2Above64(row, thr []float64, idx []int32, largest bool) int {
	n := len(row)
	thr, idx = thr[:n], idx[:n]
	full := n &^ 3
	var masks [aboveMaskChunks]uint16
	count := 0
	for b := 0; b < full; b += 4 * aboveMaskChunks {
		chunks := min(full-b, 4*aboveMaskChunks) / 4
		if avx2Above64Section(&masks, unsafe.Add(base(row), 8*b), unsafe.Add(base(thr), 8*b), chunks, largest) != 0 {
			count = maskIndices(masks[:chunks], 4, b, idx, count)
		}
	}
	return count + offsetIndices(idx[count:], full, abovePortable(row[full:], thr[full:], idx[count:], largest))
}

//go:noinline
func avx2Above64Section(masks *[aboveMaskChunks]uint16, pr, pt unsafe.Pointer, chunks int, largest bool) uint16 {
	var any uint16
	for c := range chunks {
		v, t := load64(pr, 4*c), load64(pt, 4*c)
		var m uint8
		if largest {
			m = ^v.LessEqual(t).ToBits() & 15
		} else {
			m = ^v.GreaterEqual(t).ToBits() & 15
		}
		masks[c&(aboveMaskChunks-1)] = uint16(m)
		any |= uint16(m)
	}
	archsimd.ClearAVXUpperBits()
	return any
}
