package cosloss

import "math"

// The portable kernel set: the canonical order (kernel.go) written out in
// plain Go. Every build has it, and the vector sets must match it bit for
// bit.
var portableKernels = kernelSet{
	name:   "portable",
	sums32: canonicalSums[float32],
	sums64: canonicalSums[float64],
	rows32: func(dot, xx, yy []float64, x, y []float32, n, xStride, yStride int) {
		rowsBy(dot, xx, yy, x, y, n, xStride, yStride, canonicalSums[float32])
	},
	rows64: func(dot, xx, yy []float64, x, y []float64, n, xStride, yStride int) {
		rowsBy(dot, xx, yy, x, y, n, xStride, yStride, canonicalSums[float64])
	},
	comb32:  combPortable[float32],
	comb64:  combPortable[float64],
	cols32:  colsPortable[float32],
	cols64:  colsPortable[float64],
	cosines: cosinesPortable,
	scale32: scalePortable[float32],
	scale64: scalePortable[float64],
	above32: abovePortable[float32],
	above64: abovePortable[float64],
	gemm32:  gemmPortable32,
	gemm64:  gemmPortable64,
	expSum:  expSumPortable,
}

// sumLanes is how many float64 lanes the canonical row sums accumulate in:
// two AVX-512 vectors of 8, four AVX2 vectors of 4.
const sumLanes = 16

// laneSums holds the canonical lanes of the three row sums.
type laneSums struct {
	dot, xx, yy [sumLanes]float64
}

// canonicalSums computes the row sums of x and y in the canonical order.
// float64(a*b) rounds the product before the addition, which keeps the
// compiler from fusing the two (it may, on GOAMD64=v3 and on arm64).
func canonicalSums[T Float](x, y []T) pairSums {
	n := len(x)
	y = y[:n]
	var l laneSums
	full := n &^ (sumLanes - 1)
	for k := 0; k < full; k += sumLanes {
		xs, ys := x[k:k+sumLanes], y[k:k+sumLanes]
		for i := range sumLanes {
			a, b := float64(xs[i]), float64(ys[i])
			l.dot[i] += float64(a * b)
			l.xx[i] += float64(a * a)
			l.yy[i] += float64(b * b)
		}
	}
	for k := full; k < n; k++ {
		a, b := float64(x[k]), float64(y[k])
		l.dot[k-full] += float64(a * b)
		l.xx[k-full] += float64(a * a)
		l.yy[k-full] += float64(b * b)
	}
	return pairSums{dot: laneTotal(&l.dot), xx: laneTotal(&l.xx), yy: laneTotal(&l.yy)}
}

// laneTotal combines the lanes in the canonical tree: halves added lane by
// lane (l[i] + l[i+8], then + those 4 apart, then 2 apart), then the last
// two. It is the order in which vectors reduce: two AVX-512 vectors added,
// then each vector's halves.
func laneTotal(l *[sumLanes]float64) float64 {
	var h8 [8]float64
	for i := range h8 {
		h8[i] = l[i] + l[i+8]
	}
	h4 := [4]float64{h8[0] + h8[4], h8[1] + h8[5], h8[2] + h8[6], h8[3] + h8[7]}
	return (h4[0] + h4[2]) + (h4[1] + h4[3])
}

func combPortable[T Float](dst, a, b []T, s, p T) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	for k, v := range a {
		dst[k] = T(s*v) - T(p*b[k])
	}
}

// colsPortable adds one row of the columns at a time, reading memory in order.
func colsPortable[T Float](dot, xx, yy []float64, x, y []T, n, xStride, yStride int) {
	m := len(dot)
	for k := 0; k < n; k++ {
		xr, yr := x[k*xStride:k*xStride+m], y[k*yStride:k*yStride+m]
		for j, v := range xr {
			a, b := float64(v), float64(yr[j])
			dot[j] += float64(a * b)
			xx[j] += float64(a * a)
			yy[j] += float64(b * b)
		}
	}
}

func cosinesPortable(dot, xx, yy []float64, eps float64) {
	xx, yy = xx[:len(dot)], yy[:len(dot)]
	for j, d := range dot {
		dot[j] = d / math.Sqrt(max(xx[j], eps)*max(yy[j], eps))
	}
}

func scalePortable[T Float](row []T, a float64, r []float64, rFirst bool) {
	r = r[:len(row)]
	if rFirst {
		for k, v := range row {
			row[k] = T(float64(v) * r[k] * a)
		}
		return
	}
	for k, v := range row {
		row[k] = T(float64(v) * a * r[k])
	}
}

func abovePortable[T Float](row, thr []T, idx []int32, largest bool) int {
	thr, idx = thr[:len(row)], idx[:len(row)]
	n := 0
	for k, v := range row {
		if largest && !(v <= thr[k]) || !largest && !(v >= thr[k]) {
			idx[n] = int32(k)
			n++
		}
	}
	return n
}
