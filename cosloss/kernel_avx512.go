//go:build goexperiment.simd && amd64

package cosloss

import (
	"simd/archsimd"
	"unsafe"
)

// The AVX-512 kernel set: kernel_avx2.go's kernels with 512-bit vectors,
// in the same canonical order and under the same section rule (see there).
// The canonical 16 lanes of a sum are two Float64x8; float32 inputs load
// eight at a time and widen to one Float64x8. With 32 vector registers the
// accumulators never spill.

func init() {
	if archsimd.X86.AVX512() {
		registerKernel(kernelSet{
			name:    "avx512",
			sums32:  avx512Sums32,
			sums64:  avx512Sums64,
			rows32:  avx512Rows32,
			rows64:  avx512Rows64,
			comb32:  avx512Comb32,
			comb64:  avx512Comb64,
			cols32:  avx512Cols32,
			cols64:  avx512Cols64,
			cosines: avx512Cosines,
			scale32: avx512Scale32,
			scale64: avx512Scale64,
			above32: avx512Above32,
			above64: avx512Above64,
			gemm32:  gemmKernel[float32]{mr: 6, nr: 64, kc: 256, mc: 192, nc: 2048, tile: avx512Tile32, tileRows: avx512Tile32Rows},
			gemm64:  gemmKernel[float64]{mr: 6, nr: 32, kc: 256, mc: 192, nc: 1024, tile: avx512Tile64, tileRows: avx512Tile64Rows},
			expSum:  avx512ExpSum,
		})
	}
}

func at32x16(p unsafe.Pointer, k int) *[16]float32 { return (*[16]float32)(unsafe.Add(p, 4*k)) }
func at64x8(p unsafe.Pointer, k int) *[8]float64   { return (*[8]float64)(unsafe.Add(p, 8*k)) }

// wide32x8 loads x[k:k+8] as float64s.
func wide32x8(p unsafe.Pointer, k int) archsimd.Float64x8 {
	return archsimd.LoadFloat32x8(at32x8(p, k)).ConvertToFloat64()
}

func load64x8(p unsafe.Pointer, k int) archsimd.Float64x8 {
	return archsimd.LoadFloat64x8(at64x8(p, k))
}

// tailMask8 masks the lanes of the 8-element chunk at offset c of a tail
// of t elements.
func tailMask8(t, c int) uint8 {
	return uint8(1<<min(max(t-c, 0), 8) - 1)
}

func tail32x8(p unsafe.Pointer, c int, m archsimd.Mask32x8) archsimd.Float64x8 {
	return archsimd.LoadMaskedFloat32x8(at32x8(p, c), m).ConvertToFloat64()
}

func tail64x8(p unsafe.Pointer, c int, m archsimd.Mask64x8) archsimd.Float64x8 {
	return archsimd.LoadMaskedFloat64x8(at64x8(p, c), m)
}

// total8 takes one sum's 16 canonical lanes (l0 holds lanes 0-7, l1
// 8-15) down the canonical tree to its last pair.
func total8(l0, l1 archsimd.Float64x8) archsimd.Float64x2 {
	h8 := l0.Add(l1)
	h4 := h8.GetLo().Add(h8.GetHi())
	return h4.GetLo().Add(h4.GetHi())
}

func avx512Rows32(dot, xx, yy []float64, x, y []float32, n, xStride, yStride int) {
	if !rowsToDo(dot, xx, yy, x, y, n, xStride, yStride) {
		return
	}
	var r rowResults
	for first := 0; first < len(dot); first += rowBlock {
		m := min(rowBlock, len(dot)-first)
		avx512Rows32Section(unsafe.Pointer(&r), base(x[first*xStride:]), base(y[first*yStride:]), m, n, xStride, yStride)
		unpackRows(&r, dot[first:first+m], xx[first:first+m], yy[first:first+m])
	}
}

func avx512Rows64(dot, xx, yy []float64, x, y []float64, n, xStride, yStride int) {
	if !rowsToDo(dot, xx, yy, x, y, n, xStride, yStride) {
		return
	}
	var r rowResults
	for first := 0; first < len(dot); first += rowBlock {
		m := min(rowBlock, len(dot)-first)
		avx512Rows64Section(unsafe.Pointer(&r), base(x[first*xStride:]), base(y[first*yStride:]), m, n, xStride, yStride)
		unpackRows(&r, dot[first:first+m], xx[first:first+m], yy[first:first+m])
	}
}

func avx512Sums32(x, y []float32) pairSums {
	var r [4]float64
	if n := len(x); n > 0 {
		_ = y[n-1]
		avx512Rows32Section(unsafe.Pointer(&r), base(x), base(y), 1, n, 0, 0)
	}
	return pairSums{dot: r[0], xx: r[1], yy: r[2]}
}

func avx512Sums64(x, y []float64) pairSums {
	var r [4]float64
	if n := len(x); n > 0 {
		_ = y[n-1]
		avx512Rows64Section(unsafe.Pointer(&r), base(x), base(y), 1, n, 0, 0)
	}
	return pairSums{dot: r[0], xx: r[1], yy: r[2]}
}

// avx512Rows32Section writes the sums of rows rows of n float32s into
// out, a [rows][4]float64 (dot, xx, yy, yy).
//
//go:noinline
//go:nocheckptr
func avx512Rows32Section(out, px, py unsafe.Pointer, rows, n, xStride, yStride int) {
	// nocheckptr: a masked tail load's array may extend past the row; it
	// reads only its mask's lanes.
	full := n &^ 15
	t := n - full
	// Every row has the same tail: its masks are made once.
	m0, m1 := archsimd.Mask32x8FromBits(tailMask8(t, 0)), archsimd.Mask32x8FromBits(tailMask8(t, 8))
	for r := range rows {
		x, y := unsafe.Add(px, 4*r*xStride), unsafe.Add(py, 4*r*yStride)
		var d0, d1, a0, a1, b0, b1 archsimd.Float64x8
		for k := 0; k < full; k += 16 {
			x0, y0 := wide32x8(x, k), wide32x8(y, k)
			x1, y1 := wide32x8(x, k+8), wide32x8(y, k+8)
			d0, a0, b0 = x0.MulAdd(y0, d0), x0.MulAdd(x0, a0), y0.MulAdd(y0, b0)
			d1, a1, b1 = x1.MulAdd(y1, d1), x1.MulAdd(x1, a1), y1.MulAdd(y1, b1)
		}
		if t > 0 {
			xt, yt := unsafe.Add(x, 4*full), unsafe.Add(y, 4*full)
			x0, y0 := wide32x8(xt, 0), wide32x8(yt, 0) // a whole chunk: no mask needed
			if t < 8 {
				x0, y0 = tail32x8(xt, 0, m0), tail32x8(yt, 0, m0)
			}
			d0, a0, b0 = x0.MulAdd(y0, d0), x0.MulAdd(x0, a0), y0.MulAdd(y0, b0)
			if t > 8 {
				x1, y1 := tail32x8(xt, 8, m1), tail32x8(yt, 8, m1)
				d1, a1, b1 = x1.MulAdd(y1, d1), x1.MulAdd(x1, a1), y1.MulAdd(y1, b1)
			}
		}
		storeTotals(out, r, total8(d0, d1), total8(a0, a1), total8(b0, b1))
	}
	archsimd.ClearAVXUpperBits()
}

// avx512Rows64Section is avx512Rows32Section for float64, the products
// rounded before they are added.
//
//go:noinline
//go:nocheckptr
func avx512Rows64Section(out, px, py unsafe.Pointer, rows, n, xStride, yStride int) {
	full := n &^ 15
	t := n - full
	m0, m1 := archsimd.Mask64x8FromBits(tailMask8(t, 0)), archsimd.Mask64x8FromBits(tailMask8(t, 8))
	for r := range rows {
		x, y := unsafe.Add(px, 8*r*xStride), unsafe.Add(py, 8*r*yStride)
		var d0, d1, a0, a1, b0, b1 archsimd.Float64x8
		for k := 0; k < full; k += 16 {
			x0, y0 := load64x8(x, k), load64x8(y, k)
			x1, y1 := load64x8(x, k+8), load64x8(y, k+8)
			d0, a0, b0 = d0.Add(x0.Mul(y0)), a0.Add(x0.Mul(x0)), b0.Add(y0.Mul(y0))
			d1, a1, b1 = d1.Add(x1.Mul(y1)), a1.Add(x1.Mul(x1)), b1.Add(y1.Mul(y1))
		}
		if t > 0 {
			xt, yt := unsafe.Add(x, 8*full), unsafe.Add(y, 8*full)
			x0, y0 := load64x8(xt, 0), load64x8(yt, 0) // a whole chunk: no mask needed
			if t < 8 {
				x0, y0 = tail64x8(xt, 0, m0), tail64x8(yt, 0, m0)
			}
			d0, a0, b0 = d0.Add(x0.Mul(y0)), a0.Add(x0.Mul(x0)), b0.Add(y0.Mul(y0))
			if t > 8 {
				x1, y1 := tail64x8(xt, 8, m1), tail64x8(yt, 8, m1)
				d1, a1, b1 = d1.Add(x1.Mul(y1)), a1.Add(x1.Mul(x1)), b1.Add(y1.Mul(y1))
			}
		}
		storeTotals(out, r, total8(d0, d1), total8(a0, a1), total8(b0, b1))
	}
	archsimd.ClearAVXUpperBits()
}

func avx512Comb32(dst, a, b []float32, s, p float32) {
	n := len(a)
	b, dst = b[:n], dst[:n]
	full := n &^ 15
	sp := [2]float32{s, p}
	avx512Comb32Section(base(dst), base(a), base(b), &sp, full)
	combPortable(dst[full:], a[full:], b[full:], s, p)
}

//go:noinline
func avx512Comb32Section(pd, pa, pb unsafe.Pointer, sp *[2]float32, n int) {
	vs, vp := archsimd.BroadcastFloat32x16(sp[0]), archsimd.BroadcastFloat32x16(sp[1])
	for k := 0; k < n; k += 16 {
		av, bv := archsimd.LoadFloat32x16(at32x16(pa, k)), archsimd.LoadFloat32x16(at32x16(pb, k))
		av.Mul(vs).Sub(bv.Mul(vp)).Store(at32x16(pd, k))
	}
	archsimd.ClearAVXUpperBits()
}

func avx512Comb64(dst, a, b []float64, s, p float64) {
	n := len(a)
	b, dst = b[:n], dst[:n]
	full := n &^ 7
	sp := [2]float64{s, p}
	avx512Comb64Section(base(dst), base(a), base(b), &sp, full)
	combPortable(dst[full:], a[full:], b[full:], s, p)
}

//go:noinline
func avx512Comb64Section(pd, pa, pb unsafe.Pointer, sp *[2]float64, n int) {
	vs, vp := archsimd.BroadcastFloat64x8(sp[0]), archsimd.BroadcastFloat64x8(sp[1])
	for k := 0; k < n; k += 8 {
		load64x8(pa, k).Mul(vs).Sub(load64x8(pb, k).Mul(vp)).Store(at64x8(pd, k))
	}
	archsimd.ClearAVXUpperBits()
}

func avx512Cols32(dot, xx, yy []float64, x, y []float32, n, xStride, yStride int) {
	checkCols(dot, xx, yy, x, y, n, xStride, yStride)
	m := len(dot)
	full := m &^ 7
	if n > 0 && full > 0 {
		avx512Cols32Section(base(dot), base(xx), base(yy), base(x), base(y), full, n, xStride, yStride)
	}
	if full < m {
		colsPortable(dot[full:], xx[full:], yy[full:], x[full:], y[full:], n, xStride, yStride)
	}
}

func avx512Cols64(dot, xx, yy []float64, x, y []float64, n, xStride, yStride int) {
	checkCols(dot, xx, yy, x, y, n, xStride, yStride)
	m := len(dot)
	full := m &^ 7
	if n > 0 && full > 0 {
		avx512Cols64Section(base(dot), base(xx), base(yy), base(x), base(y), full, n, xStride, yStride)
	}
	if full < m {
		colsPortable(dot[full:], xx[full:], yy[full:], x[full:], y[full:], n, xStride, yStride)
	}
}

// avx512Cols32Section adds n rows of float32s into the sums of m columns
// (a multiple of 8), four rows per sweep as kernel_avx2.go explains.
//
//go:noinline
func avx512Cols32Section(pd, pa, pb, px, py unsafe.Pointer, m, n, xStride, yStride int) {
	k := 0
	for ; k+4 <= n; k += 4 {
		x0, x1, x2, x3 := unsafe.Add(px, 4*k*xStride), unsafe.Add(px, 4*(k+1)*xStride), unsafe.Add(px, 4*(k+2)*xStride), unsafe.Add(px, 4*(k+3)*xStride)
		y0, y1, y2, y3 := unsafe.Add(py, 4*k*yStride), unsafe.Add(py, 4*(k+1)*yStride), unsafe.Add(py, 4*(k+2)*yStride), unsafe.Add(py, 4*(k+3)*yStride)
		for j := 0; j < m; j += 8 {
			d, a, b := load64x8(pd, j), load64x8(pa, j), load64x8(pb, j)
			xv, yv := wide32x8(x0, j), wide32x8(y0, j)
			d, a, b = xv.MulAdd(yv, d), xv.MulAdd(xv, a), yv.MulAdd(yv, b)
			xv, yv = wide32x8(x1, j), wide32x8(y1, j)
			d, a, b = xv.MulAdd(yv, d), xv.MulAdd(xv, a), yv.MulAdd(yv, b)
			xv, yv = wide32x8(x2, j), wide32x8(y2, j)
			d, a, b = xv.MulAdd(yv, d), xv.MulAdd(xv, a), yv.MulAdd(yv, b)
			xv, yv = wide32x8(x3, j), wide32x8(y3, j)
			d, a, b = xv.MulAdd(yv, d), xv.MulAdd(xv, a), yv.MulAdd(yv, b)
			d.Store(at64x8(pd, j))
			a.Store(at64x8(pa, j))
			b.Store(at64x8(pb, j))
		}
	}
	for ; k < n; k++ {
		x0, y0 := unsafe.Add(px, 4*k*xStride), unsafe.Add(py, 4*k*yStride)
		for j := 0; j < m; j += 8 {
			xv, yv := wide32x8(x0, j), wide32x8(y0, j)
			xv.MulAdd(yv, load64x8(pd, j)).Store(at64x8(pd, j))
			xv.MulAdd(xv, load64x8(pa, j)).Store(at64x8(pa, j))
			yv.MulAdd(yv, load64x8(pb, j)).Store(at64x8(pb, j))
		}
	}
	archsimd.ClearAVXUpperBits()
}

// avx512Cols64Section is avx512Cols32Section for float64 inputs.
//
//go:noinline
func avx512Cols64Section(pd, pa, pb, px, py unsafe.Pointer, m, n, xStride, yStride int) {
	k := 0
	for ; k+4 <= n; k += 4 {
		x0, x1, x2, x3 := unsafe.Add(px, 8*k*xStride), unsafe.Add(px, 8*(k+1)*xStride), unsafe.Add(px, 8*(k+2)*xStride), unsafe.Add(px, 8*(k+3)*xStride)
		y0, y1, y2, y3 := unsafe.Add(py, 8*k*yStride), unsafe.Add(py, 8*(k+1)*yStride), unsafe.Add(py, 8*(k+2)*yStride), unsafe.Add(py, 8*(k+3)*yStride)
		for j := 0; j < m; j += 8 {
			d, a, b := load64x8(pd, j), load64x8(pa, j), load64x8(pb, j)
			xv, yv := load64x8(x0, j), load64x8(y0, j)
			d, a, b = d.Add(xv.Mul(yv)), a.Add(xv.Mul(xv)), b.Add(yv.Mul(yv))
			xv, yv = load64x8(x1, j), load64x8(y1, j)
			d, a, b = d.Add(xv.Mul(yv)), a.Add(xv.Mul(xv)), b.Add(yv.Mul(yv))
			xv, yv = load64x8(x2, j), load64x8(y2, j)
			d, a, b = d.Add(xv.Mul(yv)), a.Add(xv.Mul(xv)), b.Add(yv.Mul(yv))
			xv, yv = load64x8(x3, j), load64x8(y3, j)
			d, a, b = d.Add(xv.Mul(yv)), a.Add(xv.Mul(xv)), b.Add(yv.Mul(yv))
			d.Store(at64x8(pd, j))
			a.Store(at64x8(pa, j))
			b.Store(at64x8(pb, j))
		}
	}
	for ; k < n; k++ {
		x0, y0 := unsafe.Add(px, 8*k*xStride), unsafe.Add(py, 8*k*yStride)
		for j := 0; j < m; j += 8 {
			xv, yv := load64x8(x0, j), load64x8(y0, j)
			load64x8(pd, j).Add(xv.Mul(yv)).Store(at64x8(pd, j))
			load64x8(pa, j).Add(xv.Mul(xv)).Store(at64x8(pa, j))
			load64x8(pb, j).Add(yv.Mul(yv)).Store(at64x8(pb, j))
		}
	}
	archsimd.ClearAVXUpperBits()
}

// avx512Cosines finishes eight slices at a time (see avx2Cosines).
func avx512Cosines(dot, xx, yy []float64, eps float64) {
	n := len(dot)
	xx, yy = xx[:n], yy[:n]
	full := n &^ 7
	e := [1]float64{eps}
	avx512CosinesSection(base(dot), base(xx), base(yy), &e, full)
	cosinesPortable(dot[full:], xx[full:], yy[full:], eps)
}

//go:noinline
func avx512CosinesSection(pd, pa, pb unsafe.Pointer, eps *[1]float64, n int) {
	e := archsimd.BroadcastFloat64x8(eps[0])
	for j := 0; j < n; j += 8 {
		p := load64x8(pa, j).Max(e).Mul(load64x8(pb, j).Max(e))
		load64x8(pd, j).Div(p.Sqrt()).Store(at64x8(pd, j))
	}
	archsimd.ClearAVXUpperBits()
}

// The all-pairs epilogue: float32 products widen eight at a time, are
// multiplied in float64 in the canonical order and round once back
// (VCVTPD2PS rounds to nearest, as Go's conversion does).
func avx512Scale32(row []float32, a float64, r []float64, rFirst bool) {
	n := len(row)
	r = r[:n]
	full := n &^ 15
	av := [1]float64{a}
	if full > 0 {
		avx512Scale32Section(base(row), base(r), &av, full, rFirst)
	}
	scalePortable(row[full:], a, r[full:], rFirst)
}

//go:noinline
func avx512Scale32Section(pd, pr unsafe.Pointer, a *[1]float64, n int, rFirst bool) {
	va := archsimd.BroadcastFloat64x8(a[0])
	if rFirst {
		for k := 0; k < n; k += 16 {
			d0, d1 := wide32x8(pd, k), wide32x8(pd, k+8)
			d0 = d0.Mul(load64x8(pr, k)).Mul(va)
			d1 = d1.Mul(load64x8(pr, k+8)).Mul(va)
			d0.ConvertToFloat32().Store(at32x8(pd, k))
			d1.ConvertToFloat32().Store(at32x8(pd, k+8))
		}
	} else {
		for k := 0; k < n; k += 16 {
			d0, d1 := wide32x8(pd, k), wide32x8(pd, k+8)
			d0 = d0.Mul(va).Mul(load64x8(pr, k))
			d1 = d1.Mul(va).Mul(load64x8(pr, k+8))
			d0.ConvertToFloat32().Store(at32x8(pd, k))
			d1.ConvertToFloat32().Store(at32x8(pd, k+8))
		}
	}
	archsimd.ClearAVXUpperBits()
}

func avx512Scale64(row []float64, a float64, r []float64, rFirst bool) {
	n := len(row)
	r = r[:n]
	full := n &^ 15
	av := [1]float64{a}
	if full > 0 {
		avx512Scale64Section(base(row), base(r), &av, full, rFirst)
	}
	scalePortable(row[full:], a, r[full:], rFirst)
}

//go:noinline
func avx512Scale64Section(pd, pr unsafe.Pointer, a *[1]float64, n int, rFirst bool) {
	va := archsimd.BroadcastFloat64x8(a[0])
	if rFirst {
		for k := 0; k < n; k += 16 {
			load64x8(pd, k).Mul(load64x8(pr, k)).Mul(va).Store(at64x8(pd, k))
			load64x8(pd, k+8).Mul(load64x8(pr, k+8)).Mul(va).Store(at64x8(pd, k+8))
		}
	} else {
		for k := 0; k < n; k += 16 {
			load64x8(pd, k).Mul(va).Mul(load64x8(pr, k)).Store(at64x8(pd, k))
			load64x8(pd, k+8).Mul(va).Mul(load64x8(pr, k+8)).Store(at64x8(pd, k+8))
		}
	}
	archsimd.ClearAVXUpperBits()
}

// The threshold pass: one compare per 16 float32s (8 float64s); the
// section stores each chunk's mask of candidates (the complement of ≤, or
// of ≥, which takes in NaNs), and the indices come out of the masks
// outside it, only when some mask is not empty.
func avx512Above32(row, thr []float32, idx []int32, largest bool) int {
	n := len(row)
	thr, idx = thr[:n], idx[:n]
	full := n &^ 15
	var masks [aboveMaskChunks]uint16
	count := 0
	for b := 0; b < full; b += 16 * aboveMaskChunks {
		chunks := min(full-b, 16*aboveMaskChunks) / 16
		if avx512Above32Section(&masks, unsafe.Add(base(row), 4*b), unsafe.Add(base(thr), 4*b), chunks, largest) != 0 {
			count = maskIndices(masks[:chunks], 16, b, idx, count)
		}
	}
	return count + offsetIndices(idx[count:], full, abovePortable(row[full:], thr[full:], idx[count:], largest))
}

//go:noinline
func avx512Above32Section(masks *[aboveMaskChunks]uint16, pr, pt unsafe.Pointer, chunks int, largest bool) uint16 {
	var any uint16
	for c := range chunks {
		v, t := archsimd.LoadFloat32x16(at32x16(pr, 16*c)), archsimd.LoadFloat32x16(at32x16(pt, 16*c))
		var m uint16
		if largest {
			m = ^v.LessEqual(t).ToBits()
		} else {
			m = ^v.GreaterEqual(t).ToBits()
		}
		masks[c&(aboveMaskChunks-1)] = m
		any |= m
	}
	archsimd.ClearAVXUpperBits()
	return any
}

func avx512Above64(row, thr []float64, idx []int32, largest bool) int {
	n := len(row)
	thr, idx = thr[:n], idx[:n]
	full := n &^ 7
	var masks [aboveMaskChunks]uint16
	count := 0
	for b := 0; b < full; b += 8 * aboveMaskChunks {
		chunks := min(full-b, 8*aboveMaskChunks) / 8
		if avx512Above64Section(&masks, unsafe.Add(base(row), 8*b), unsafe.Add(base(thr), 8*b), chunks, largest) != 0 {
			count = maskIndices(masks[:chunks], 8, b, idx, count)
		}
	}
	return count + offsetIndices(idx[count:], full, abovePortable(row[full:], thr[full:], idx[count:], largest))
}

//go:noinline
func avx512Above64Section(masks *[aboveMaskChunks]uint16, pr, pt unsafe.Pointer, chunks int, largest bool) uint16 {
	var any uint16
	for c := range chunks {
		v, t := load64x8(pr, 8*c), load64x8(pt, 8*c)
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
