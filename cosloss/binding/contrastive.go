package binding

import "github.com/cosloss/cosloss/cosloss"

// The contrastive losses (cosloss/contrastive.go). Each input matrix comes
// as its address, its length in elements, its rows and its row stride in
// elements (its columns are d, contiguous); gradients are C-ordered with
// their input's shape. losses (float64, one per anchor) receives the
// per-anchor losses; coef (float64, 1 or one per anchor; address 0 for
// none) is dL/dloss_i, and with it the gradients are computed: written,
// or added to the buffers' values when add is 1.

// MultipleNegativesRanking is sentence-transformers' loss of b anchors
// against the candidates: the m rows of positives, then k columns of
// negatives, column t being rows t·negStride + i·negRowStride of the
// negatives buffer for i < negRows (a (B, k, d) array: negRowStride k·d,
// negStride d; a (B, d) one: k = 1). k = 0 means no negatives. dNegatives
// is C-ordered (negRows, k, d).
func MultipleNegativesRanking(dtype int, anchors uintptr, anchorsLen, b, d, anchorsStride int,
	positives uintptr, positivesLen, m, positivesStride int,
	negatives uintptr, negativesLen, negRows, k, negRowStride, negStride int,
	scale, eps float64, losses uintptr, lossesLen int, coef uintptr, coefLen int,
	dAnchors uintptr, dAnchorsLen int, dPositives uintptr, dPositivesLen int,
	dNegatives uintptr, dNegativesLen int, add int) (status int) {
	if !enter() {
		return Busy
	}
	defer leave(&status)
	in := mnrlArgs{anchors, anchorsLen, b, d, anchorsStride, positives, positivesLen, m, positivesStride,
		negatives, negativesLen, negRows, k, negRowStride, negStride,
		dAnchors, dAnchorsLen, dPositives, dPositivesLen, dNegatives, dNegativesLen}
	l, c := floats[float64](losses, lossesLen), floats[float64](coef, coefLen)
	switch dtype {
	case Float32:
		return report(mnrl[float32](in, scale, float32(eps), l, c, add != 0))
	case Float64:
		return report(mnrl[float64](in, scale, eps, l, c, add != 0))
	}
	return report(badDtype(dtype))
}

type mnrlArgs struct {
	anchors                                uintptr
	anchorsLen, b, d, anchorsStride        int
	positives                              uintptr
	positivesLen, m, positivesStride       int
	negatives                              uintptr
	negativesLen, negRows, k, negRowStride int
	negStride                              int
	dAnchors                               uintptr
	dAnchorsLen                            int
	dPositives                             uintptr
	dPositivesLen                          int
	dNegatives                             uintptr
	dNegativesLen                          int
}

// maxStackSegments is how many candidate segments (positives and
// negative columns) a call holds without allocating.
const maxStackSegments = 16

func mnrl[T float32 | float64](in mnrlArgs, scale float64, eps T, losses, coef []float64, add bool) error {
	var segBuf, gradBuf [maxStackSegments]cosloss.Matrix[T]
	segs, dsegs := segBuf[:0], gradBuf[:0]
	if in.k+1 > maxStackSegments {
		segs, dsegs = make([]cosloss.Matrix[T], 0, in.k+1), make([]cosloss.Matrix[T], 0, in.k+1)
	}
	a := matrix[T](in.anchors, in.anchorsLen, in.b, in.d, in.anchorsStride)
	segs = append(segs, matrix[T](in.positives, in.positivesLen, in.m, in.d, in.positivesStride))
	neg := floats[T](in.negatives, in.negativesLen)
	for t := range max(in.k, 0) {
		segs = append(segs, cosloss.Matrix[T]{Data: from(neg, t*in.negStride), Rows: in.negRows, Cols: in.d,
			Stride: in.negRowStride})
	}
	if coef == nil {
		return cosloss.MultipleNegativesRanking(a, segs, scale, eps, losses, nil, nil)
	}
	dneg := floats[T](in.dNegatives, in.dNegativesLen)
	dsegs = append(dsegs, matrix[T](in.dPositives, in.dPositivesLen, in.m, in.d, in.d))
	for t := range max(in.k, 0) {
		dsegs = append(dsegs, cosloss.Matrix[T]{Data: from(dneg, t*in.d), Rows: in.negRows, Cols: in.d,
			Stride: in.k * in.d})
	}
	g := cosloss.Gradients[T]{Coef: coef, Anchors: matrix[T](in.dAnchors, in.dAnchorsLen, in.b, in.d, in.d), Add: add}
	return cosloss.MultipleNegativesRanking(a, segs, scale, eps, losses, &g, dsegs)
}

// NTXent is optax's ntxent over the b rows of x with their int64 labels;
// dx is C-ordered b×d.
func NTXent(dtype int, x uintptr, xLen, b, d, xStride int, labels uintptr, labelsLen int,
	temperature, eps float64, losses uintptr, lossesLen int, coef uintptr, coefLen int,
	dx uintptr, dxLen int, add int) (status int) {
	if !enter() {
		return Busy
	}
	defer leave(&status)
	lab := int64s(labels, labelsLen)
	l, c := floats[float64](losses, lossesLen), floats[float64](coef, coefLen)
	switch dtype {
	case Float32:
		return report(ntxent(matrix[float32](x, xLen, b, d, xStride), lab, temperature, float32(eps), l, c,
			matrix[float32](dx, dxLen, b, d, d), add != 0))
	case Float64:
		return report(ntxent(matrix[float64](x, xLen, b, d, xStride), lab, temperature, eps, l, c,
			matrix[float64](dx, dxLen, b, d, d), add != 0))
	}
	return report(badDtype(dtype))
}

func ntxent[T float32 | float64](x cosloss.Matrix[T], labels []int64, temperature float64, eps T,
	losses, coef []float64, dx cosloss.Matrix[T], add bool) error {
	if coef == nil {
		return cosloss.NTXent(x, labels, temperature, eps, losses, nil)
	}
	g := cosloss.Gradients[T]{Coef: coef, Anchors: dx, Add: add}
	return cosloss.NTXent(x, labels, temperature, eps, losses, &g)
}

// SetContrastiveWorkingSet sets the bytes the contrastive losses' per-block
// work arrays may take (≤ 0: the default, 32 MiB) and returns the previous
// setting; for tests, which make blocks small with it.
func SetContrastiveWorkingSet(bytes int) int { return cosloss.SetContrastiveWorkingSet(bytes) }

// from is s[off:], or nil when off is past its end (the core's checks then
// report the short buffer).
func from[T any](s []T, off int) []T {
	if off < 0 || off > len(s) {
		return nil
	}
	return s[off:]
}
