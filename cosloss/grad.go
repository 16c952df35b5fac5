package cosloss

import "fmt"

// Gradients follow TensorFlow's autodiff through its ops (math_grad.py):
// Maximum sends the gradient to its first argument on ties, so a slice with
// Σx² ≥ ε gets the full l2_normalize gradient and one with Σx² < ε only the
// linear part, g/sqrt(ε) = g·1e6 for zero vectors: finite, never NaN.
// CosineGrad's other ε rules follow PyTorch's autograd instead (EpsRule,
// pullBy).

// derivative is d form(c) / dc.
func (f Form) derivative(c float64) float64 {
	switch f {
	case NegCos, OneMinusCos:
		return -1
	case SquaredOneMinusCos:
		return -2 * (1 - c)
	}
	return 1
}

// CosineGrad computes what Cosine computes into value and, for the upstream
// gradient of each slice's value, the gradients with respect to x and y
// into dx and dy (C-ordered with x's layout), as rule's library
// differentiates them (see EpsRule). dx or dy may be nil to skip it. Each
// slice is read once for its sums and once more, from cache for
// rows up to blockLen long, to write its gradients.
func CosineGrad[T Float](x, y View[T], form Form, upstream, value, dx, dy []T, rule EpsRule, eps T) error {
	if err := checkArgs(x, y, len(value), form, rule); err != nil {
		return err
	}
	if err := checkGrads(x.Layout, len(upstream), dx, dy); err != nil {
		return err
	}
	forEachSlice(x, y, cosineGradBody[T]{x, y, form, upstream, value, dx, dy, rule, eps})
	return nil
}

// cosineGradBody writes CosineGrad's value and gradients for one slice.
type cosineGradBody[T Float] struct {
	x, y                    View[T]
	form                    Form
	upstream, value, dx, dy []T
	rule                    EpsRule
	eps                     T
}

func (b cosineGradBody[T]) slice(o, i int, s pairSums) {
	x, y, rule, eps := b.x, b.y, b.rule, b.eps
	c := finishCosine(x, y, o, i, &s, rule, eps)
	j := o*x.Inner + i
	b.value[j] = T(b.form.apply(float64(T(c))))
	if x.Len == 0 {
		return // no elements, so no gradients to write
	}
	g := float64(b.upstream[j]) * b.form.derivative(c)
	ix, iy := invNormBy(rule, s.xx, eps), invNormBy(rule, s.yy, eps)
	// d c / d x = ix·iy·(y − p·x), and symmetrically for y, where p is
	// [Σx² ≥ ε]·ix²·dot under FloorSquared (see pullBy for the others).
	// Inf and NaN inputs give the NaNs TensorFlow's autodiff gives.
	scale := g * ix * iy
	xPull := pullBy(rule, s.xx, ix, eps, s.dot)
	yPull := pullBy(rule, s.yy, iy, eps, s.dot)
	xb, yb := x.base(o, i), y.base(o, i)
	out := o*x.Len*x.Inner + i
	if x.Inner == 1 && x.unitRows() && y.unitRows() {
		// Contiguous rows in and out: the kernel set's vector loop.
		xr, yr := x.Data[xb:xb+x.Len], y.Data[yb:yb+x.Len]
		if b.dx != nil {
			comb(b.dx[out:out+x.Len], yr, xr, scale, scale*xPull)
		}
		if b.dy != nil {
			comb(b.dy[out:out+x.Len], xr, yr, scale, scale*yPull)
		}
		return
	}
	for k := 0; k < x.Len; k++ {
		xk, yk := float64(x.Data[xb+k*x.LenStride]), float64(y.Data[yb+k*y.LenStride])
		if b.dx != nil {
			b.dx[out+k*x.Inner] = T(scale * (yk - xPull*xk*broadcastShare(rule, x.LenStride, x.Len)))
		}
		if b.dy != nil {
			b.dy[out+k*x.Inner] = T(scale * (xk - yPull*yk*broadcastShare(rule, y.LenStride, y.Len)))
		}
	}
}

// broadcastShare splits the norm term of an input broadcast along the axis
// (LenStride 0, see finishCosine) over the Len copies of its one element, so
// that summing the copies' gradients, as the caller does to undo the
// broadcast, counts that term once. Under FloorNorm the norm is over the
// copies (EpsRule.normsOwnElements), and each copy's term is its own.
func broadcastShare(rule EpsRule, lenStride, n int) float64 {
	if lenStride == 0 && n > 1 && rule.normsOwnElements() {
		return 1 / float64(n)
	}
	return 1
}

// L2NormalizeGrad computes what L2Normalize computes into out and, for the
// upstream gradient g (C-ordered with x's layout), the gradient with respect
// to x into dx: inv·g − inv³·x·Σ(g·x) where Σx² ≥ ε, inv·g elsewhere.
func L2NormalizeGrad[T Float](x View[T], upstream, out, dx []T, eps T) error {
	if err := x.Check("x"); err != nil {
		return err
	}
	for name, s := range map[string][]T{"upstream": upstream, "out": out, "dx": dx} {
		if len(s) != x.Size() {
			return fmt.Errorf("%s: want %d elements, got %d", name, x.Size(), len(s))
		}
	}
	g := Contiguous(upstream, x.Layout)
	forEachSlice(x, g, normalizeGradBody[T]{x, g, out, dx, eps})
	return nil
}

// normalizeGradBody writes L2NormalizeGrad's outputs for one slice; its
// sums are dot = Σ g·x and xx = Σ x².
type normalizeGradBody[T Float] struct {
	x, g    View[T]
	out, dx []T
	eps     T
}

func (b normalizeGradBody[T]) slice(o, i int, s pairSums) {
	x, g := b.x, b.g
	inv := invNorm(s.xx, b.eps)
	cubic := pull(s.xx, inv, b.eps, s.dot) * inv
	xb, gb := x.base(o, i), g.base(o, i)
	if x.Inner == 1 && x.unitRows() {
		xr, gr := x.Data[xb:xb+x.Len], g.Data[gb:gb+x.Len]
		comb(b.out[gb:gb+x.Len], xr, xr, inv, 0)
		comb(b.dx[gb:gb+x.Len], gr, xr, inv, cubic)
		return
	}
	for k := 0; k < x.Len; k++ {
		xk, gk := float64(x.Data[xb+k*x.LenStride]), float64(g.Data[gb+k*g.LenStride])
		b.out[gb+k*g.LenStride] = T(xk * inv)
		b.dx[gb+k*g.LenStride] = T(inv*gk - cubic*xk)
	}
}

// CosineDistanceGrad computes what CosineDistance computes into value and,
// for the upstream gradient of each slice, the gradients −g·y for x and
// −g·x for y (C-ordered with x's layout); dx or dy may be nil.
func CosineDistanceGrad[T Float](x, y View[T], upstream, value, dx, dy []T) error {
	if err := checkPair(x, y, len(value)); err != nil {
		return err
	}
	if err := checkGrads(x.Layout, len(upstream), dx, dy); err != nil {
		return err
	}
	forEachSlice(x, y, distanceGradBody[T]{x, y, upstream, value, dx, dy})
	return nil
}

// distanceGradBody writes CosineDistanceGrad's value and gradients for one slice.
type distanceGradBody[T Float] struct {
	x, y                    View[T]
	upstream, value, dx, dy []T
}

func (b distanceGradBody[T]) slice(o, i int, s pairSums) {
	x, y := b.x, b.y
	j := o*x.Inner + i
	b.value[j] = 1 - T(s.dot)
	g := b.upstream[j]
	xb, yb := x.base(o, i), y.base(o, i)
	out := o*x.Len*x.Inner + i
	for k := 0; k < x.Len; k++ {
		if b.dx != nil {
			b.dx[out+k*x.Inner] = -g * y.Data[yb+k*y.LenStride]
		}
		if b.dy != nil {
			b.dy[out+k*x.Inner] = -g * x.Data[xb+k*x.LenStride]
		}
	}
}

func checkGrads[T Float](l Layout, nupstream int, dx, dy []T) error {
	if nupstream != l.Slices() {
		return fmt.Errorf("upstream: want %d elements, got %d", l.Slices(), nupstream)
	}
	for name, d := range map[string][]T{"dx": dx, "dy": dy} {
		if d != nil && len(d) != l.Size() {
			return fmt.Errorf("%s: want %d elements, got %d", name, l.Size(), len(d))
		}
	}
	return nil
}
