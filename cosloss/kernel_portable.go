package cosloss

import "math"

// The portable kernel set: gonum's assembly dot products for the row sums,
// plain Go loops for the rest. Every build has it.
var portableKernels = kernelSet{
	name:    "portable",
	sums32:  gonumSums[float32],
	sums64:  gonumSums[float64],
	comb32:  combPortable[float32],
	comb64:  combPortable[float64],
	cols32:  colsPortable[float32],
	cols64:  colsPortable[float64],
	cosines: cosinesPortable,
}

// gonumSums runs gonum's float64-accumulating dot products block by block,
// so the second and third passes over a block hit L1 cache.
func gonumSums[T float32 | float64](x, y []T) pairSums {
	var s pairSums
	for k := 0; k < len(x); k += blockLen {
		m := min(blockLen, len(x)-k)
		s.add(blockSums(x[k:k+m], y[k:k+m], 1, 1, m))
	}
	return s
}

func combPortable[T Float](dst, a, b []T, s, p T) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	for k, v := range a {
		dst[k] = s*v - p*b[k]
	}
}

// colsPortable adds one row of the columns at a time, reading memory in order.
func colsPortable[T Float](dot, xx, yy []float64, x, y []T, n, xStride, yStride int) {
	m := len(dot)
	for k := 0; k < n; k++ {
		xr, yr := x[k*xStride:k*xStride+m], y[k*yStride:k*yStride+m]
		for j, v := range xr {
			a, b := float64(v), float64(yr[j])
			dot[j] += a * b
			xx[j] += a * a
			yy[j] += b * b
		}
	}
}

func cosinesPortable(dot, xx, yy []float64, eps float64) {
	xx, yy = xx[:len(dot)], yy[:len(dot)]
	for j, d := range dot {
		dot[j] = d / math.Sqrt(max(xx[j], eps)*max(yy[j], eps))
	}
}
