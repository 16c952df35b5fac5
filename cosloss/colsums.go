package cosloss

// Column sums: every layout but contiguous rows, a block of neighbouring
// slices (o, ·, i0..i1-1) at a time. Where the reduced axis is not the
// last, those slices lie side by side and their sums accumulate as vectors
// over the contiguous runs x[o, k, i0:i1], one step k of the axis at a time
// (the kernel set's cols kernels); otherwise each slice is summed on its
// own (sliceSums, rowsums.go).

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
	// Every row at once: each column's sum adds its rows in order, in
	// float64, on every kernel set.
	n := x.Len
	if n == 0 {
		return
	}
	xb, yb := x.base(o, i0), y.base(o, i0)
	xEnd, yEnd := xb+(n-1)*x.LenStride+m, yb+(n-1)*y.LenStride+m
	columnSums(dot, xx, yy, x.Data[xb:xEnd], y.Data[yb:yEnd], n, x.LenStride, y.LenStride)
}
