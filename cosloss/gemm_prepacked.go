package cosloss

// Products that share their right operand: op(B) packed once, in the
// panels matMul packs block by block, and then read by every product that
// uses it (the contrastive losses multiply every block of anchors by the
// same candidates). The kernel reads the same panels as matMul's, so the
// bits are MatMul's.

// prepackedB is op(B) (k×n) packed for the kernel g: for each block of kc
// steps starting at p0 (kb = min(kc, k−p0) of them), the ⌈n/nr⌉ panels of
// kb×nr elements one after the other, from data[p0·np·nr]; panel q of that
// block starts at q·nr·kb within it.
type prepackedB[T Float] struct {
	data []T
	k, n int
	g    *gemmKernel[T]
}

// prepackedLen is the elements a prepackedB of op(B) k×n takes with the
// active kernel set.
func prepackedLen[T Float](k, n int) int {
	g := gemmKernelOf[T]()
	return k * panelCount(n, g.nr) * g.nr
}

func panelCount(n, nr int) int { return (n + nr - 1) / nr }

// prepackJob packs panels [lo, hi) of every block of op(B).
type prepackJob[T Float] struct {
	pb  prepackedB[T]
	b   Matrix[T]
	opB Op
}

func (j prepackJob[T]) run(lo, hi int) {
	pb, g := j.pb, j.pb.g
	width := panelCount(pb.n, g.nr) * g.nr
	for p0 := 0; p0 < pb.k; p0 += g.kc {
		kb := min(g.kc, pb.k-p0)
		j0, j1 := lo*g.nr, min(hi*g.nr, pb.n)
		packB(pb.data[p0*width+j0*kb:], j.b, j.opB, p0, kb, j0, j1-j0, g.nr)
	}
}

// prepack packs op(B) into dst (at least prepackedLen elements) for the
// active kernel set, the panels split over workers.
func prepack[T Float](dst []T, b Matrix[T], opB Op) prepackedB[T] {
	k, n := dims(b, opB)
	g := gemmKernelOf[T]()
	pb := prepackedB[T]{data: dst[:k*panelCount(n, g.nr)*g.nr], k: k, n: n, g: g}
	if k > 0 && n > 0 {
		splitRange(panelCount(n, g.nr), k*n, prepackJob[T]{pb, b, opB})
	}
	return pb
}

// matMulPrepacked sets C to op(A)·op(B)[:, col0:col0+C.Cols], or adds it
// when add is true, on one goroutine; col0 is a multiple of the kernel's
// nr and op(A) has pb.k columns. It is matMul with op(B)'s blocks read
// from pb instead of packed.
func matMulPrepacked[T Float](c, a Matrix[T], opA Op, pb prepackedB[T], col0 int, add bool) {
	g := pb.g
	if g != gemmKernelOf[T]() || col0%g.nr != 0 || col0+c.Cols > pb.n {
		panic("cosloss: matMulPrepacked with panels of another kernel or an unaligned column range")
	}
	matMulFrom(c, a, opA, blocksOfB[T]{pre: pb, prepacked: true, col0: col0}, pb.k, add)
}
