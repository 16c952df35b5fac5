package binding

import (
	"unsafe"

	"github.com/cosloss/cosloss/cosloss"
)

// All-pairs cosines and top-k search (cosloss/pairwise.go, topk.go). Each
// matrix crosses as its address, its buffer's length in elements, its rows
// and columns, and its row stride in elements (its columns are contiguous;
// Python copies a matrix whose are not). The core checks every matrix
// against its buffer.

// CosineMatrix writes cos(row i of x, row j of y) into out[i, j]: x is
// n×d, y m×d, out n×m. Passing x's address, length and stride for y
// (Python does for y=None) makes it x against itself: its norms are
// computed once and the products above the diagonal serve below it.
func CosineMatrix(dtype int, out uintptr, outLen, outStride int,
	x uintptr, xLen, n, d, xStride int, y uintptr, yLen, m, yStride int, eps float64) (status int) {
	if !enter() {
		return Busy
	}
	defer leave(&status)
	switch dtype {
	case Float32:
		return report(cosloss.CosineMatrix(matrix[float32](out, outLen, n, m, outStride),
			matrix[float32](x, xLen, n, d, xStride), matrix[float32](y, yLen, m, d, yStride), float32(eps)))
	case Float64:
		return report(cosloss.CosineMatrix(matrix[float64](out, outLen, n, m, outStride),
			matrix[float64](x, xLen, n, d, xStride), matrix[float64](y, yLen, m, d, yStride), eps))
	}
	return report(badDtype(dtype))
}

// CosineMatrixGrad writes the gradients of Σ upstream∘cos (upstream n×m)
// with respect to x into dx and y into dy, both C-ordered (n×d, m×d);
// an address of 0 skips that gradient.
func CosineMatrixGrad(dtype int, x uintptr, xLen, n, d, xStride int, y uintptr, yLen, m, yStride int,
	upstream uintptr, upstreamLen, upstreamStride int, dx uintptr, dxLen int, dy uintptr, dyLen int,
	eps float64) (status int) {
	if !enter() {
		return Busy
	}
	defer leave(&status)
	switch dtype {
	case Float32:
		return report(cosloss.CosineMatrixGrad(matrix[float32](x, xLen, n, d, xStride), matrix[float32](y, yLen, m, d, yStride),
			matrix[float32](upstream, upstreamLen, n, m, upstreamStride),
			output[float32](dx, dxLen, n, d), output[float32](dy, dyLen, m, d), float32(eps)))
	case Float64:
		return report(cosloss.CosineMatrixGrad(matrix[float64](x, xLen, n, d, xStride), matrix[float64](y, yLen, m, d, yStride),
			matrix[float64](upstream, upstreamLen, n, m, upstreamStride),
			output[float64](dx, dxLen, n, d), output[float64](dy, dyLen, m, d), eps))
	}
	return report(badDtype(dtype))
}

// CosineMatrixSelfGrad writes the gradient of Σ upstream∘cos(x, x)
// (upstream n×n) with respect to x, through both sides, into dx (n×d,
// C-ordered).
func CosineMatrixSelfGrad(dtype int, x uintptr, xLen, n, d, xStride int,
	upstream uintptr, upstreamLen, upstreamStride int, dx uintptr, dxLen int, eps float64) (status int) {
	if !enter() {
		return Busy
	}
	defer leave(&status)
	switch dtype {
	case Float32:
		return report(cosloss.CosineMatrixSelfGrad(matrix[float32](x, xLen, n, d, xStride),
			matrix[float32](upstream, upstreamLen, n, n, upstreamStride), output[float32](dx, dxLen, n, d), float32(eps)))
	case Float64:
		return report(cosloss.CosineMatrixSelfGrad(matrix[float64](x, xLen, n, d, xStride),
			matrix[float64](upstream, upstreamLen, n, n, upstreamStride), output[float64](dx, dxLen, n, d), eps))
	}
	return report(badDtype(dtype))
}

// TopK writes, for each of the n queries (n×d), the min(k, m) corpus rows
// (m×d) of largest cosine (smallest when largest is 0) into values and
// indices, both C-ordered n × min(k, m) (values in dtype, indices int64),
// best first; ties go to the lower corpus index and NaN ranks above every
// number.
func TopK(dtype int, values uintptr, valuesLen int, indices uintptr, indicesLen int,
	queries uintptr, queriesLen, n, d, queriesStride int, corpus uintptr, corpusLen, m, corpusStride int,
	k, largest int, eps float64) (status int) {
	if !enter() {
		return Busy
	}
	defer leave(&status)
	kk := max(min(k, m), 0)
	idx := int64s(indices, indicesLen)
	switch dtype {
	case Float32:
		return report(cosloss.TopK(output[float32](values, valuesLen, n, kk), idx,
			matrix[float32](queries, queriesLen, n, d, queriesStride), matrix[float32](corpus, corpusLen, m, d, corpusStride),
			k, largest != 0, float32(eps)))
	case Float64:
		return report(cosloss.TopK(output[float64](values, valuesLen, n, kk), idx,
			matrix[float64](queries, queriesLen, n, d, queriesStride), matrix[float64](corpus, corpusLen, m, d, corpusStride),
			k, largest != 0, eps))
	}
	return report(badDtype(dtype))
}

// matrix is the rows×cols view with row stride stride of the buffer at p,
// which holds n elements; the core checks that the view fits in them.
func matrix[T float32 | float64](p uintptr, n, rows, cols, stride int) cosloss.Matrix[T] {
	return cosloss.Matrix[T]{Data: floats[T](p, n), Rows: rows, Cols: cols, Stride: stride}
}

// output is a C-ordered rows×cols matrix at p holding n elements. An
// address of 0 gives a matrix without data, which the gradients read as
// "skip". An empty one at a real address gets an empty, non-nil slice.
func output[T float32 | float64](p uintptr, n, rows, cols int) cosloss.Matrix[T] {
	m := matrix[T](p, n, rows, cols, cols)
	if m.Data == nil && p != 0 {
		m.Data = []T{}
	}
	return m
}

// int64s is floats for the int64 index buffer.
func int64s(p uintptr, n int) []int64 {
	if n <= 0 || p == 0 {
		return nil
	}
	ptr := *(*unsafe.Pointer)(unsafe.Pointer(&p))
	return unsafe.Slice((*int64)(ptr), n)
}
