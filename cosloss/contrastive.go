package cosloss

import (
	"fmt"
	"math"
	"sync/atomic"
	"unsafe"
)

// In-batch contrastive losses: MultipleNegativesRanking
// (sentence-transformers' MultipleNegativesRankingLoss, InfoNCE with
// in-batch negatives) and NTXent (optax's ntxent), their values and their
// analytic gradients in one pass, in memory that does not grow with the
// batch squared.
//
// Both score B anchors a_i against N candidates c_j with the cosine
//
//	cos_ij = T(float64(a_i·c_j) · r_i · r_j),  r = 1/√max(Σx², ε)
//
// (the pairwise contract: the dot is MatMul's canonical FMA chain in T, Σx²
// the canonical row sums, r in float64), turn each anchor's row of scores
// into its loss, and, with the per-anchor coefficient coef_i = dL/dloss_i
// known before the pass (the reduction is linear), into
// G_ij = coef_i · ∂loss_i/∂cos_ij. Then
//
//	dA_i = r_i Σ_j G_ij r_j c_j − r_i² (Σ_j G_ij cos_ij) a_i
//	dC_j = r_j Σ_i G_ij r_i a_i − r_j² (Σ_i G_ij cos_ij) c_j
//
// where the r² term is dropped for a row whose Σx² is below ε (TensorFlow's
// Maximum gives max(Σx², ε) no gradient to Σx² there; jnp.clip's is the
// same), so a zero row has finite values (cosines 0) and gradients.
//
// The anchors go in blocks of R rows, R chosen so that the block's two
// R×N work arrays (the products and scores) fit the working set
// (SetContrastiveWorkingSet, 32 MiB by default; R ≥ 8). Per block, three
// products, each split over workers by output rows or columns, so the bits
// never depend on the worker count:
//
//	H  = A_blk · Cᵀ              (dots, then cosines into S in float64)
//	     the row rule turns each row of S into loss_i and ∂loss_i/∂cos,
//	     H_ij ← T(G_ij r_i r_j), S_ij ← G_ij cos_ij (rows in parallel)
//	dA_blk += H · C              (the r² terms are summed in float64:
//	dC     += Hᵀ · A_blk          rows in the row pass, columns after it)
//
// and the r² terms are applied once all blocks are done. No B×N matrix,
// no normalized copy of an input: besides the inputs and gradients a call
// holds the working set and O(B + N) float64s. Blocks run in order, and
// each column sum adds its rows in order, so the result is one fixed
// sequence of roundings for any block size (but NTXent's: there dA and dC
// are one array, whose rows receive the two sides in block order). The
// softmax work is float64 with expCanonical and logCanonical (expcanon.go),
// the same bits on every CPU; MultipleNegativesRanking's exponentials and
// their row sum are the kernel sets' expSum (expsum.go: 16 lanes, the row
// sums' order, vectorized in the AVX-512 set).

// Gradients says what a contrastive loss's gradients are and where they go.
type Gradients[T Float] struct {
	// Coef is dL/dloss_i, the derivative of the caller's total with respect
	// to each anchor's loss: one value per anchor, or one for all.
	Coef []float64
	// Anchors receives the gradient of the anchors (B×d). The candidates'
	// gradients are MultipleNegativesRanking's own argument: Go's escape
	// analysis does not tell a struct's fields apart, and a slice of them
	// in here would move a caller's stack array of matrices to the heap.
	Anchors Matrix[T]
	// Add adds the gradients to the matrices' values rather than
	// overwriting them (a symmetric loss is two calls into one set).
	Add bool
}

// contrastivePrepackBytes bounds the candidates' packed copies (one per
// call, reused by every block): 16 MiB, B = 8192 float32 candidates of
// d = 256 in both forms. Larger calls pack per block, as MatMul does.
const contrastivePrepackBytes = 16 << 20

// defaultContrastiveWorkingSet bounds the two R×N work arrays of a call:
// 32 MiB, which keeps B = 65536, d = 256 within its 64 MiB of extra memory.
const defaultContrastiveWorkingSet = 32 << 20

// minContrastiveRows is the smallest anchor block, whatever the working set.
const minContrastiveRows = 8

var contrastiveWorkingSet atomic.Int64

func init() { contrastiveWorkingSet.Store(defaultContrastiveWorkingSet) }

// SetContrastiveWorkingSet sets the bytes that the contrastive losses'
// per-block work arrays may take (at least 8 anchor rows' worth is used
// whatever it says) and returns the previous setting; bytes ≤ 0 restores
// the default. Tests use it to make blocks small. MultipleNegativesRanking's
// results do not depend on it (every sum runs in one order whatever the
// block size); NTXent's gradient can differ in its last bits, since the
// two sides of cos(x, x) meet in an order that depends on the blocks. Not
// to be called while other calls run.
func SetContrastiveWorkingSet(bytes int) int {
	if bytes <= 0 {
		bytes = defaultContrastiveWorkingSet
	}
	return int(contrastiveWorkingSet.Swap(int64(bytes)))
}

// contrastiveRows is R for n candidates of T: the most rows whose T
// products and float64 scores fit the working set, at least
// minContrastiveRows, at most b.
func contrastiveRows[T Float](b, n int) int {
	per := max(n, 1) * (int(unsafe.Sizeof(T(0))) + 8)
	r := max(int(contrastiveWorkingSet.Load())/per, minContrastiveRows)
	return max(min(r, b), 1)
}

// MultipleNegativesRanking writes into losses[i] (float64) the
// cross-entropy of scale·cos(a_i, c_j) over the candidates c, the
// candidate segments one after the other (sentence-transformers: all
// positives, then each column of hard negatives), with target j = i:
//
//	loss_i = log Σ_j exp(scale·cos_ij) − scale·cos_ii
//
// and, when grad is not nil, the gradients of Σ_i Coef_i·loss_i into
// grad.Anchors and dCandidates (one matrix per segment, of its shape). Norms are floored at eps as
// max(Σx², eps). There must be at least as many candidates as anchors.
func MultipleNegativesRanking[T Float](anchors Matrix[T], candidates []Matrix[T], scale float64, eps T,
	losses []float64, grad *Gradients[T], dCandidates []Matrix[T]) error {
	n, err := checkContrastive(anchors, candidates, losses, grad, dCandidates, false)
	if err != nil {
		return err
	}
	if n < anchors.Rows {
		return fmt.Errorf("candidates: %d rows in all, fewer than the %d anchors (anchor i's target is candidate i)",
			n, anchors.Rows)
	}
	w := claimContrastiveWork[T]()
	defer releaseContrastiveWork(w)
	runContrastive(w.setup(anchors, candidates, eps, losses, grad, dCandidates, false), mnrlRule{scale})
	return nil
}

// NTXent writes into losses[i] (float64) anchor i's part of optax's
// NT-Xent loss over the rows of x with their labels, s = cos/temperature:
//
//	loss_i = Σ_{j≠i, l_j=l_i} [log(Σ_{k: l_k≠l_i} e^{s_ik} + e^{s_ij}) − s_ij]
//
// (each positive pair against the anchor's negatives only; the row maximum
// is subtracted first, as optax does), so that optax's value is Σ loss_i
// divided by the number of positive pairs. When grad is not nil, the
// gradient of Σ_i Coef_i·loss_i with respect to x (through both sides of
// cos(x, x)) goes into grad.Anchors.
func NTXent[T Float](x Matrix[T], labels []int64, temperature float64, eps T, losses []float64,
	grad *Gradients[T]) error {
	if len(labels) != x.Rows {
		return fmt.Errorf("labels: want %d (one per row of x), got %d", x.Rows, len(labels))
	}
	if _, err := checkContrastive(x, nil, losses, grad, nil, true); err != nil {
		return err
	}
	w := claimContrastiveWork[T]()
	defer releaseContrastiveWork(w)
	runContrastive(w.setup(x, nil, eps, losses, grad, nil, true), ntxentRule{labels, temperature})
	return nil
}

// A rowRule turns anchor i's cosines s (one per candidate, in float64)
// into its loss and, when grad is set, overwrites s with ∂loss_i/∂cos_ij.
type rowRule interface {
	row(i int, s []float64, grad bool) float64
}

// mnrlRule is MultipleNegativesRanking's cross-entropy with target i.
type mnrlRule struct{ scale float64 }

func (r mnrlRule) row(i int, s []float64, grad bool) float64 {
	m := math.Inf(-1)
	for j, c := range s {
		v := r.scale * c
		s[j] = v
		m = max(m, v) // NaN wins, and makes the row NaN
	}
	target := s[i]
	sum := expSum(s, m)
	loss := (m - target) + logCanonical(sum)
	if grad {
		ei := s[i]
		for j, e := range s {
			s[j] = float64(e/sum) * r.scale
		}
		s[i] = float64(ei/sum-1) * r.scale // (p_i − 1)·scale, without p_i·scale's rounding
	}
	return loss
}

// ntxentRule is optax's ntxent for one anchor: self excluded, positives
// share the label, negatives do not.
type ntxentRule struct {
	labels      []int64
	temperature float64
}

func (r ntxentRule) row(i int, s []float64, grad bool) float64 {
	li, tau := r.labels[i], r.temperature
	m := math.Inf(-1)
	for j, c := range s {
		v := c / tau
		s[j] = v
		if j != i {
			m = max(m, v)
		}
	}
	// Negatives become e^{s−m} and their sum; positives s − m.
	var denom float64
	for j, v := range s {
		if j == i {
			continue
		}
		if r.labels[j] != li {
			e := expCanonical(v - m)
			s[j] = e
			denom += e
		} else {
			s[j] = v - m
		}
	}
	var loss, w float64
	for j, v := range s {
		if j == i || r.labels[j] != li {
			continue
		}
		e := expCanonical(v)
		t := denom + e
		loss += logCanonical(t) - v
		if grad {
			w += 1 / t
			s[j] = float64(e/t-1) / tau
		}
	}
	if grad {
		for j := range s {
			switch {
			case j == i:
				s[j] = 0
			case r.labels[j] != li:
				s[j] = float64(s[j]*w) / tau
			}
		}
	}
	return loss
}

// contrastive is one call's state, which its jobs share.
type contrastive[T Float] struct {
	a       Matrix[T]
	c       []Matrix[T]
	starts  []int // first global candidate of each segment, then n
	b, n, d int
	eps     T
	losses  []float64
	grad    bool
	coef    []float64
	dA      Matrix[T]
	dC      []Matrix[T]
	add     bool
	self    bool      // the candidates are the anchors (NTXent): one set of norms and gradients
	ra, rc  []float64 // inverse norms
	keepA   []bool    // Σx² reaches ε: the r² term applies
	keepC   []bool
	rowPull []float64 // Σ_j G_ij cos_ij per anchor
	colPull []float64 // Σ_i G_ij cos_ij per candidate
	rows    int       // R
	h       []T       // R×n
	s       []float64 // R×n
	// With one candidate segment and room in contrastivePrepackBytes, the
	// candidates packed once per call for the products every block makes:
	// Cᵀ for the scores, C (with gradients) for H·C.
	packed    bool
	pkT, pkN  prepackedB[T]
	scoreUnit int // candidates per task of scoreJob: the kernel's nr when packed, else 1
}

// checkContrastive checks a call's arguments and returns the number of
// candidates; self means the anchors are the only candidates (c is unused).
func checkContrastive[T Float](a Matrix[T], c []Matrix[T], losses []float64, grad *Gradients[T], dc []Matrix[T],
	self bool) (int, error) {
	if err := a.check("anchors"); err != nil {
		return 0, err
	}
	n := a.Rows
	if !self {
		n = 0
		for k, m := range c {
			if err := m.check("candidates"); err != nil { // a name built here would allocate every call
				return 0, fmt.Errorf("segment %d: %w", k, err)
			}
			if m.Cols != a.Cols {
				return 0, fmt.Errorf("candidates[%d]: %d columns, but the anchors have %d", k, m.Cols, a.Cols)
			}
			n += m.Rows
		}
	}
	if len(losses) != a.Rows {
		return 0, fmt.Errorf("losses: want %d elements (one per anchor), got %d", a.Rows, len(losses))
	}
	if grad == nil {
		return n, nil
	}
	if len(grad.Coef) != 1 && len(grad.Coef) != a.Rows {
		return 0, fmt.Errorf("grad.Coef: want 1 or %d elements, got %d", a.Rows, len(grad.Coef))
	}
	if err := sameShape(grad.Anchors, a, "grad.Anchors"); err != nil {
		return 0, err
	}
	if self {
		return n, nil
	}
	if len(dc) != len(c) {
		return 0, fmt.Errorf("dCandidates: want %d matrices (one per segment), got %d", len(c), len(dc))
	}
	for k := range c {
		if err := sameShape(dc[k], c[k], "dCandidates"); err != nil {
			return 0, fmt.Errorf("segment %d: %w", k, err)
		}
	}
	return n, nil
}

func sameShape[T Float](g, x Matrix[T], name string) error {
	if err := g.check(name); err != nil {
		return err
	}
	if g.Rows != x.Rows || g.Cols != x.Cols {
		return fmt.Errorf("%s: want %d×%d, got %d×%d", name, x.Rows, x.Cols, g.Rows, g.Cols)
	}
	return nil
}

// runContrastive is the row-block pass of the package comment.
func runContrastive[T Float, L rowRule](p *contrastive[T], rule L) {
	if p.b == 0 {
		if p.grad && !p.add {
			for _, m := range p.dC {
				zeroMatrix(m)
			}
		}
		return
	}

	// The norms, once per call.
	splitRange(p.b, p.b*p.d+1, contrastiveNormsJob[T]{p.a, p.ra, p.keepA, p.eps})
	if !p.self {
		for k, m := range p.c {
			lo := p.starts[k]
			splitRange(m.Rows, m.Rows*p.d+1, contrastiveNormsJob[T]{m, p.rc[lo:], p.keepC[lo:], p.eps})
		}
	}
	if p.grad && !p.add {
		zeroMatrix(p.dA)
		if !p.self {
			for _, m := range p.dC {
				zeroMatrix(m)
			}
		}
	}
	for i0 := 0; i0 < p.b; i0 += p.rows {
		blk := contrastiveBlock[T]{p, i0, min(p.rows, p.b-i0)}
		work := blk.rows * p.n * max(p.d, 1)
		splitRange(panelCount(p.n, p.scoreUnit), work, scoreJob[T]{blk})
		splitRange(blk.rows, blk.rows*p.n*16, rowJob[T, L]{blk, rule})
		if !p.grad {
			continue
		}
		splitRange(p.n, blk.rows*p.n, colPullJob[T]{blk})
		splitRange(blk.rows, work, anchorGradJob[T]{blk})
		splitRange(p.n, work, candidateGradJob[T]{blk})
	}
	if p.grad {
		splitRange(p.b, p.b*p.d+1, pullJob[T]{p.a, p.dA, p.ra, p.keepA, p.rowPull, p.colPullForAnchors()})
		if !p.self {
			for k, m := range p.c {
				lo, hi := p.starts[k], p.starts[k+1]
				splitRange(m.Rows, m.Rows*p.d+1, pullJob[T]{m, p.dC[k], p.rc[lo:hi], p.keepC[lo:hi], p.colPull[lo:hi], nil})
			}
		}
	}
}

// colPullForAnchors is the column sums that belong to the anchors' own
// rows: all of them when the candidates are the anchors, else none.
func (p *contrastive[T]) colPullForAnchors() []float64 {
	if p.self {
		return p.colPull
	}
	return nil
}

// contrastiveWork is a call's state and scratch memory. One per element
// type is kept between calls, claimed with an atomic swap, which a fork()ed
// child can do (no lock), so that a call allocates nothing on the Go heap
// once the scratch is large enough (the child's collector is off).
// Candidate segments are copied in, so the caller's slices stay its own.
type contrastiveWork[T Float] struct {
	call                        contrastive[T]
	segs, dsegs                 []Matrix[T]
	starts                      []int
	h, pk                       []T
	s, ra, rc, rowPull, colPull []float64
	keepA, keepC                []bool
}

var (
	work32 atomic.Pointer[contrastiveWork[float32]]
	work64 atomic.Pointer[contrastiveWork[float64]]
)

func workCache[T Float]() *atomic.Pointer[contrastiveWork[T]] {
	if c, ok := any(&work32).(*atomic.Pointer[contrastiveWork[T]]); ok {
		return c
	}
	if c, ok := any(&work64).(*atomic.Pointer[contrastiveWork[T]]); ok {
		return c
	}
	return nil // a named element type: no cache
}

func claimContrastiveWork[T Float]() *contrastiveWork[T] {
	if c := workCache[T](); c != nil {
		if w := c.Swap(nil); w != nil {
			return w
		}
	}
	return new(contrastiveWork[T])
}

func releaseContrastiveWork[T Float](w *contrastiveWork[T]) {
	w.call = contrastive[T]{} // keep no caller memory reachable
	clear(w.segs)
	clear(w.dsegs)
	if c := workCache[T](); c != nil {
		c.Store(w)
	}
}

// setup fills w.call for checked arguments (checkContrastive) and sizes
// the scratch; self means a is the one candidate segment.
func (w *contrastiveWork[T]) setup(a Matrix[T], c []Matrix[T], eps T, losses []float64, grad *Gradients[T],
	dc []Matrix[T], self bool) *contrastive[T] {
	if self {
		w.segs = append(w.segs[:0], a)
	} else {
		w.segs = append(w.segs[:0], c...)
	}
	w.starts = grown(w.starts, len(w.segs)+1)
	w.starts[0] = 0
	for k, m := range w.segs {
		w.starts[k+1] = w.starts[k] + m.Rows
	}
	p := &w.call
	*p = contrastive[T]{a: a, c: w.segs, starts: w.starts, b: a.Rows, n: w.starts[len(w.segs)], d: a.Cols,
		eps: eps, losses: losses, self: self}
	if grad != nil {
		p.grad, p.coef, p.dA, p.add = true, grad.Coef, grad.Anchors, grad.Add
		if self {
			w.dsegs = append(w.dsegs[:0], grad.Anchors)
		} else {
			w.dsegs = append(w.dsegs[:0], dc...)
		}
		p.dC = w.dsegs
	}
	p.rows = contrastiveRows[T](p.b, p.n)
	w.h = grown(w.h, p.rows*p.n)
	w.s = grown(w.s, p.rows*p.n)
	w.ra = grown(w.ra, p.b)
	w.rowPull = grown(w.rowPull, p.b)
	w.keepA = grown(w.keepA, p.b)
	if self {
		w.colPull = grown(w.colPull, p.b)
		p.rc, p.keepC = w.ra, w.keepA
	} else {
		w.rc = grown(w.rc, p.n)
		w.colPull = grown(w.colPull, p.n)
		w.keepC = grown(w.keepC, p.n)
		p.rc, p.keepC = w.rc, w.keepC
	}
	p.h, p.s, p.ra, p.keepA = w.h, w.s, w.ra, w.keepA
	p.scoreUnit = 1
	if !self && len(w.segs) == 1 && p.b > 0 {
		c := w.segs[0]
		nT, nN := prepackedLen[T](p.d, p.n), 0
		if p.grad {
			nN = prepackedLen[T](p.n, p.d)
		}
		if (nT+nN)*int(unsafe.Sizeof(T(0))) <= contrastivePrepackBytes {
			w.pk = grown(w.pk, nT+nN)
			p.packed, p.scoreUnit = true, gemmKernelOf[T]().nr
			p.pkT = prepack(w.pk[:nT], c, Trans)
			if p.grad {
				p.pkN = prepack(w.pk[nT:], c, NoTrans)
			}
		}
	}
	p.rowPull, p.colPull = w.rowPull, w.colPull
	clear(p.rowPull)
	clear(p.colPull)
	return p
}

// grown is s resliced to n elements, reallocated when too small.
func grown[E any](s []E, n int) []E {
	if cap(s) < n {
		return make([]E, n)
	}
	return s[:n]
}

func zeroMatrix[T Float](m Matrix[T]) {
	for i := range m.Rows {
		clear(m.Data[i*m.Stride : i*m.Stride+m.Cols])
	}
}

// contrastiveNormsJob writes each row's inverse norm and whether its Σx² reaches ε.
type contrastiveNormsJob[T Float] struct {
	m    Matrix[T]
	r    []float64
	keep []bool
	eps  T
}

func (j contrastiveNormsJob[T]) run(lo, hi int) {
	m := j.m
	if m.Cols == 0 {
		for i := lo; i < hi; i++ {
			j.r[i], j.keep[i] = invNorm(0, j.eps), 0 >= float64(j.eps)
		}
		return
	}
	b, slot := getBlock()
	defer putBlock(b, slot)
	for first := lo; first < hi; first += rowBlock {
		k := min(rowBlock, hi-first)
		x := m.Data[first*m.Stride : (first+k-1)*m.Stride+m.Cols]
		rowSums(b.dot[:k], b.xx[:k], b.yy[:k], x, x, m.Cols, m.Stride, m.Stride)
		for t, ss := range b.xx[:k] {
			j.r[first+t] = invNorm(ss, j.eps)
			j.keep[first+t] = float64(T(ss)) >= float64(j.eps) && !sumOverflows[T](ss)
		}
	}
}

// contrastiveBlock is one block of anchor rows [i0, i0+rows).
type contrastiveBlock[T Float] struct {
	p        *contrastive[T]
	i0, rows int
}

// h is the block's product array, rows × n with stride n, columns [c0, c1).
func (b contrastiveBlock[T]) h(c0, c1 int) Matrix[T] {
	return Matrix[T]{Data: b.p.h[c0:], Rows: b.rows, Cols: c1 - c0, Stride: b.p.n}
}

func (b contrastiveBlock[T]) anchors() Matrix[T] { return rowsOf(b.p.a, b.i0, b.i0+b.rows) }

// segments calls f with each candidate segment's part of the global
// columns [lo, hi): segment k, its local rows [j0, j1), and their global start.
func (b contrastiveBlock[T]) segments(lo, hi int, f func(k, j0, j1, g0 int)) {
	st := b.p.starts
	for k := range b.p.c {
		g0, g1 := max(lo, st[k]), min(hi, st[k+1])
		if g0 < g1 {
			f(k, g0-st[k], g1-st[k], g0)
		}
	}
}

// scoreJob computes the block's dots with candidates [lo, hi) into h and
// their cosines into s.
type scoreJob[T Float] struct{ contrastiveBlock[T] }

func (j scoreJob[T]) run(lo, hi int) {
	p, a := j.p, j.anchors()
	lo, hi = lo*p.scoreUnit, min(hi*p.scoreUnit, p.n)
	if p.packed {
		matMulPrepacked(j.h(lo, hi), a, NoTrans, p.pkT, lo, false)
	} else {
		j.segments(lo, hi, func(k, j0, j1, g0 int) {
			mustMatMul(j.h(g0, g0+j1-j0), a, NoTrans, rowsOf(p.c[k], j0, j1), Trans, false)
		})
	}
	for i := range j.rows {
		ri := p.ra[j.i0+i]
		h, s := p.h[i*p.n:(i+1)*p.n], p.s[i*p.n:(i+1)*p.n]
		for c := lo; c < hi; c++ {
			s[c] = float64(T(float64(h[c]) * ri * p.rc[c]))
		}
	}
}

// rowJob turns rows [lo, hi) of the block into losses and, with
// gradients, into H and G∘cos.
type rowJob[T Float, L rowRule] struct {
	contrastiveBlock[T]
	rule L
}

func (j rowJob[T, L]) run(lo, hi int) {
	p := j.p
	for i := lo; i < hi; i++ {
		g := j.i0 + i
		s := p.s[i*p.n : (i+1)*p.n]
		p.losses[g] = j.rule.row(g, s, p.grad)
		if !p.grad {
			continue
		}
		coef := p.coef[0]
		if len(p.coef) > 1 {
			coef = p.coef[g]
		}
		h, ri := p.h[i*p.n:(i+1)*p.n], p.ra[g]
		var pull float64
		for c, d := range s {
			rc := p.rc[c]
			cos := float64(T(float64(h[c]) * ri * rc))
			gij := coef * d
			h[c] = T(float64(gij*ri) * rc)
			s[c] = float64(gij * cos)
			pull += s[c]
		}
		p.rowPull[g] += pull
	}
}

// colPullJob adds the block's G∘cos down columns [lo, hi), rows in order.
type colPullJob[T Float] struct{ contrastiveBlock[T] }

func (j colPullJob[T]) run(lo, hi int) {
	p := j.p
	const chunk = 512 // columns whose running sums stay in L1 while the rows go by
	for c0 := lo; c0 < hi; c0 += chunk {
		c1 := min(c0+chunk, hi)
		sums := p.colPull[c0:c1]
		for i := range j.rows {
			row := p.s[i*p.n+c0 : i*p.n+c1]
			for c, v := range row {
				sums[c] += v
			}
		}
	}
}

// anchorGradJob adds H·C into the gradients of the block's anchor rows [lo, hi).
type anchorGradJob[T Float] struct{ contrastiveBlock[T] }

func (j anchorGradJob[T]) run(lo, hi int) {
	p := j.p
	dA := rowsOf(p.dA, j.i0+lo, j.i0+hi)
	if p.packed {
		h := Matrix[T]{Data: p.h[lo*p.n:], Rows: hi - lo, Cols: p.n, Stride: p.n}
		matMulPrepacked(dA, h, NoTrans, p.pkN, 0, true)
		return
	}
	j.segments(0, p.n, func(k, j0, j1, g0 int) {
		h := Matrix[T]{Data: p.h[lo*p.n+g0:], Rows: hi - lo, Cols: j1 - j0, Stride: p.n}
		mustMatMul(dA, h, NoTrans, rowsOf(p.c[k], j0, j1), NoTrans, true)
	})
}

// candidateGradJob adds Hᵀ·A_blk into the gradients of candidates [lo, hi).
type candidateGradJob[T Float] struct{ contrastiveBlock[T] }

func (j candidateGradJob[T]) run(lo, hi int) {
	p, a := j.p, j.anchors()
	j.segments(lo, hi, func(k, j0, j1, g0 int) {
		mustMatMul(rowsOf(p.dC[k], j0, j1), j.h(g0, g0+j1-j0), Trans, a, NoTrans, true)
	})
}

// pullJob subtracts r²·(Σ G∘cos)·x from the gradient of each row x whose
// Σx² reaches ε; extra (when not nil) holds more such sums for the same rows.
type pullJob[T Float] struct {
	x, dx       Matrix[T]
	r           []float64
	keep        []bool
	pull, extra []float64
}

func (j pullJob[T]) run(lo, hi int) {
	for i := lo; i < hi; i++ {
		if !j.keep[i] {
			continue
		}
		pull := j.pull[i]
		if j.extra != nil {
			pull += j.extra[i]
		}
		w := float64(j.r[i]*j.r[i]) * pull
		x := j.x.Data[i*j.x.Stride : i*j.x.Stride+j.x.Cols]
		dx := j.dx.Data[i*j.dx.Stride : i*j.dx.Stride+j.dx.Cols]
		for k, v := range x {
			dx[k] = T(float64(dx[k]) - float64(w*float64(v)))
		}
	}
}
