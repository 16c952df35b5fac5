package cosloss

// Views and calls on Matrix shared by the all-pairs code (pairwise.go,
// topk.go, contrastive.go).

// sub is the view of rows [r0, r1) and columns [c0, c1) of m.
func sub[T Float](m Matrix[T], r0, r1, c0, c1 int) Matrix[T] {
	v := Matrix[T]{Rows: r1 - r0, Cols: c1 - c0, Stride: m.Stride}
	if v.Rows > 0 && v.Cols > 0 {
		v.Data = m.Data[r0*m.Stride+c0 : (r1-1)*m.Stride+c1]
	}
	return v
}

// rowsOf is the view of rows [r0, r1) of m, every column.
func rowsOf[T Float](m Matrix[T], r0, r1 int) Matrix[T] { return sub(m, r0, r1, 0, m.Cols) }

// sameMatrix reports whether x and y view the same elements.
func sameMatrix[T Float](x, y Matrix[T]) bool {
	if x.Rows != y.Rows || x.Cols != y.Cols || (x.Rows > 1 && x.Stride != y.Stride) {
		return false
	}
	if x.Rows == 0 || x.Cols == 0 {
		return len(x.Data) == 0 && len(y.Data) == 0
	}
	return &x.Data[0] == &y.Data[0]
}

// mustMatMul is MatMul for arguments the caller has checked: an error here is a
// bug, raised as a panic (the binding turns it into an error status).
func mustMatMul[T Float](c, a Matrix[T], opA Op, b Matrix[T], opB Op, add bool) {
	if err := MatMul(c, a, opA, b, opB, add); err != nil {
		panic(err)
	}
}
