package cosloss

import (
	"fmt"
	"math"
)

// Form selects what is computed from the cosine c of each slice.
type Form int

const (
	// Cos is c: TensorFlow 1.15's Keras loss and every version's metric.
	Cos Form = iota
	// NegCos is −c: TensorFlow ≥ 2.0's Keras loss and the seed article's
	// cosine_similarity_loss.
	NegCos
	// OneMinusCos is 1 − c (the seed article's v2).
	OneMinusCos
	// SquaredOneMinusCos is (1 − c)² (the seed article's v3).
	SquaredOneMinusCos
)

func (f Form) valid() bool { return f >= Cos && f <= SquaredOneMinusCos }

// apply maps a cosine to the form in float64. Callers pass the cosine
// already rounded to T, as TensorFlow's form ops see it (so identical vectors
// give exactly 0 for 1 − cos), and round the result once.
func (f Form) apply(c float64) float64 {
	switch f {
	case NegCos:
		return -c
	case OneMinusCos:
		return 1 - c
	case SquaredOneMinusCos:
		return (1 - c) * (1 - c)
	}
	return c
}

// Cosine is the cosine Σx·y / (‖x‖·‖y‖) along the Len axis, each norm kept
// away from zero by rule and eps, passed through form, for every
// (outer, inner) slice: out[o*Inner+i]. Under FloorSquared it is
// TensorFlow's Σ l2_normalize(x)·l2_normalize(y).
// x and y must share a layout (broadcast with zero strides beforehand; see
// finishCosine for a zero LenStride).
// Sums are fused: Σx·y, Σx² and Σy² come from one pass over each slice, and
// the result is computed in float64 and rounded to T once.
func Cosine[T Float](x, y View[T], form Form, out []T, rule EpsRule, eps T) error {
	if err := checkArgs(x, y, len(out), form, rule); err != nil {
		return err
	}
	body := cosineBody[T]{x, y, form, out, rule, eps}
	if x.Len == 0 || (x.Len > 1 && (x.LenStride == 0 || y.LenStride == 0)) {
		// Empty, or broadcast along the axis: finishCosine's special cases.
		forEachSlice(x, y, body)
		return nil
	}
	forEachBlock(x, y, body)
	return nil
}

// checkArgs checks what Cosine and CosineGrad share.
func checkArgs[T Float](x, y View[T], nout int, form Form, rule EpsRule) error {
	if err := checkPair(x, y, nout); err != nil {
		return err
	}
	if !form.valid() {
		return fmt.Errorf("form: unknown form %d", form)
	}
	if !rule.valid() {
		return fmt.Errorf("rule: unknown epsilon rule %d", rule)
	}
	return nil
}

// cosineBody writes Cosine's outputs, a slice or a block of slices at a time.
type cosineBody[T Float] struct {
	x, y View[T]
	form Form
	out  []T
	rule EpsRule
	eps  T
}

func (b cosineBody[T]) slice(o, i int, s pairSums) {
	c := finishCosine(b.x, b.y, o, i, &s, b.rule, b.eps)
	b.out[o*b.x.Inner+i] = T(b.form.apply(float64(T(c))))
}

func (b cosineBody[T]) block(first int, dot, xx, yy []float64) {
	dst := b.out[first : first+len(dot)]
	// The kernel sets' finishers know FloorSquared only: the other rules
	// finish here a slice at a time, correct first and slower (finishing is
	// about a fifth of a short row's time, see overRoot); so do sums that
	// cosine's special cases may apply to.
	if b.rule != FloorSquared || !ordinarySums[T](xx, yy) {
		for j := range dst {
			o, i := (first+j)/b.x.Inner, (first+j)%b.x.Inner
			bad := nonFinite(xx[j], b.x, o, i) || nonFinite(yy[j], b.y, o, i)
			c := cosine[T](pairSums{dot: dot[j], xx: xx[j], yy: yy[j]}, b.rule, b.eps, bad)
			dst[j] = T(b.form.apply(float64(T(c))))
		}
		return
	}
	active.cosines(dot, xx, yy, float64(b.eps))
	for j, c := range dot {
		dst[j] = T(b.form.apply(float64(T(c))))
	}
}

// ordinarySums reports whether every Σx² and Σy² of a block is finite and
// small enough that cosine's overflow cases cannot arise, so the kernel
// set's plain formula gives cosine's result.
func ordinarySums[T Float](xx, yy []float64) bool {
	limit := cosineSumLimit[T]()
	ok := true
	for j := range xx {
		// Written so that NaN fails too.
		ok = ok && xx[j] <= limit && yy[j] <= limit
	}
	return ok
}

// cosineSumLimit bounds the sums of squares ordinarySums accepts: below
// it neither sum overflows T and their product stays below MaxFloat64.
func cosineSumLimit[T Float]() float64 {
	if isFloat32[T]() {
		return math.MaxFloat32
	}
	return 1e150
}

// nonFinite reports whether slice (o, ·, i) of v holds an inf or a NaN,
// given its float64 sum of squares s. A NaN sum comes only from a NaN
// element and an infinite one from an infinite element, except in float64,
// where finite elements above about 1e154 overflow the sum too: only then
// are the elements read again.
func nonFinite[T Float](s float64, v View[T], o, i int) bool {
	if s <= math.MaxFloat64 {
		return false // finite (NaN fails the comparison)
	}
	if math.IsNaN(s) || isFloat32[T]() {
		return true
	}
	b := v.base(o, i)
	for k := 0; k < v.Len; k++ {
		if math.IsInf(float64(v.Data[b+k*v.LenStride]), 0) {
			return true
		}
	}
	return false
}

// finishCosine turns the sums of slice (o, ·, i) into its cosine. An empty
// slice has cosine 0 (TensorFlow sums nothing), even where ε is 0 (float16)
// and a zero vector would give NaN. An input with LenStride 0 is one of
// length 1 broadcast along the axis: TensorFlow normalizes it over that one
// element before broadcasting the product, so its Σ² counts it once (and
// so does CosineEmbeddingLoss; F.cosine_similarity expands it first, see
// EpsRule.normsOwnElements); s is corrected in place for the gradient's use.
func finishCosine[T Float](x, y View[T], o, i int, s *pairSums, rule EpsRule, eps T) float64 {
	if x.Len == 0 {
		return 0
	}
	if rule.normsOwnElements() {
		if x.LenStride == 0 {
			s.xx = square(x.Data[x.base(o, i)])
		}
		if y.LenStride == 0 {
			s.yy = square(y.Data[y.base(o, i)])
		}
	}
	return cosine(*s, rule, eps, nonFinite(s.xx, x, o, i) || nonFinite(s.yy, y, o, i))
}

func square[T Float](v T) float64 { return float64(v) * float64(v) }

// cosine finishes one slice, all in float64: under FloorSquared
// dot · rsqrt(max(Σx², ε)) · rsqrt(max(Σy², ε)), under FloorNorm
// dot / (max(‖x‖, ε)·max(‖y‖, ε)), under AddSquared dot / √((Σx²+ε)(Σy²+ε)).
// TensorFlow rounds every op to T instead, so float32 results can differ
// from it in the last bit or two (0.8 where it gives 0.79999995).
// nonFinite says x or y holds an inf or a NaN: TensorFlow's normalized
// vector then holds a NaN (inf·rsqrt(inf) = inf·0), and so does the cosine,
// under every rule.
func cosine[T Float](s pairSums, rule EpsRule, eps T, nonFinite bool) float64 {
	if nonFinite {
		return math.NaN()
	}
	if sumOverflows[T](s.xx) || sumOverflows[T](s.yy) {
		// Finite elements whose Σ² overflows T: TensorFlow scales that
		// vector to 0, so the cosine is 0 (dot may be inf or NaN here).
		// Every rule keeps this.
		return 0
	}
	e := float64(eps)
	switch rule {
	case FloorNorm:
		nx, ny := max(math.Sqrt(s.xx), e), max(math.Sqrt(s.yy), e)
		if p := nx * ny; p < math.MaxFloat64 {
			return s.dot / p
		}
		return s.dot / nx / ny
	case AddSquared:
		return overRoot(s.dot, s.xx+e, s.yy+e)
	}
	return overRoot(s.dot, max(s.xx, e), max(s.yy, e))
}

// overRoot is dot / √(mx·my) for floored sums of squares mx and my.
func overRoot(dot, mx, my float64) float64 {
	if p := mx * my; p < math.MaxFloat64 {
		// One square root and one division instead of two of each: this
		// finishing step is a fifth of a 256-element row's time.
		return dot / math.Sqrt(p)
	}
	return dot / math.Sqrt(mx) / math.Sqrt(my)
}

// CosineDistance writes TF1's cosine distance 1 − Σx·y along the Len axis
// for every slice. Like TensorFlow it does not normalize x or y.
func CosineDistance[T Float](x, y View[T], out []T) error {
	if err := checkPair(x, y, len(out)); err != nil {
		return err
	}
	forEachSlice(x, y, distanceBody[T]{x.Inner, out})
	return nil
}

// distanceBody writes CosineDistance's outputs.
type distanceBody[T Float] struct {
	inner int
	out   []T
}

func (b distanceBody[T]) slice(o, i int, s pairSums) { b.out[o*b.inner+i] = 1 - T(s.dot) }
