package cosloss

import (
	"fmt"
	"math"
)

// All-pairs cosines: out[i, j] = cos(x_i, y_j) for every row i of x and
// row j of y, and the gradient of Σ U∘cos. The products go through MatMul
// (gemm.go) on sub-matrix views, tile by tile, so that memory is the output
// plus a bounded working set, and the epilogue folds in the row norms:
//
//	r_i    = 1 / √max(Σ_p x_ip², ε)               in float64 (Σ from the row sums)
//	cos_ij = T(float64(dot_ij) · r_i · r_j)        left to right, rounded once
//
// with dot_ij element (i, j) of X·Yᵀ in MatMul's canonical order. Tiles
// are split over workers; each element is computed the same way whatever
// the tile or the worker, so the bits never depend on Workers().

// Tile sizes. MatMul blocks for the caches itself; these tiles set the
// parallel grain and keep the epilogue's reads of a tile in cache. They are
// multiples of every set's micro-kernel tile (6 or 4 rows, 64, 32, 16, 8 or
// 4 columns), so only the matrix's own edge takes MatMul's edge-tile path,
// and large enough that each call's packing, (rows + cols)·d copies, stays
// near 1% of its rows·cols·d multiply-adds. A 384×512 float32 tile is 768
// KiB, in L2 cache for the epilogue.
//
// MatMul reads the partner matrix Y as op(B) = Yᵀ. Packed from Y itself
// that is a scatter of single elements (at 4096×4096×256 a fifth of
// MatMul's time, and with 256×256 tiles every tile row of the output packed
// all of Y again); so CosineMatrix transposes Y once, in column blocks of
// at most pairBlockBytes, and MatMul reads the block as B = Yᵀ, packed by
// copies. The products' bits are unchanged: op(B)[p, j] is the same value.
var (
	pairTileRows = 384
	pairTileCols = 512
	// pairSelfTile is the square tile of x against itself.
	pairSelfTile = 384
	// pairBlockBytes bounds the transposed copy of Y (the working set
	// beyond the output); 4096×256 float32 is one block of 4 MiB.
	pairBlockBytes = 8 << 20
)

const (
	// Gradient passes: a block of gradRows output rows runs over tiles of
	// gradCols partners; two gradRows×gradCols scratch tiles per piece.
	gradRows = 128
	gradCols = 512
)

// rowNorms returns r_i = 1/√max(Σx_i², eps) (invNorm: 0 where Σx_i² overflows T) and Σx_i² for every row of x,
// the sums being the canonical row sums of x against itself (float64).
func rowNorms[T Float](x Matrix[T], eps T) (inv, sq []float64) {
	sq = squares(x)
	inv = make([]float64, x.Rows)
	for i, s := range sq {
		inv[i] = invNorm(s, eps)
	}
	return inv, sq
}

// invNorms is rowNorms' inv alone, in one allocation.
func invNorms[T Float](x Matrix[T], eps T) []float64 {
	inv := squares(x)
	for i, s := range inv {
		inv[i] = invNorm(s, eps)
	}
	return inv
}

// squares is Σx_i² of every row, from the canonical row sums.
func squares[T Float](x Matrix[T]) []float64 {
	sq := make([]float64, x.Rows)
	if x.Cols > 0 {
		splitRange(x.Rows, x.Rows*x.Cols, squaresJob[T]{x, sq})
	}
	return sq
}

// squaresJob writes the sums of squares of rows [lo, hi) of x into sq.
type squaresJob[T Float] struct {
	x  Matrix[T]
	sq []float64
}

func (j squaresJob[T]) run(lo, hi int) {
	x, n := j.x, j.x.Cols
	var dot, yy [rowBlock]float64
	for first := lo; first < hi; first += rowBlock {
		m := min(rowBlock, hi-first)
		b := first * x.Stride
		e := b + (m-1)*x.Stride + n
		rowSums(dot[:m], j.sq[first:first+m], yy[:m], x.Data[b:e], x.Data[b:e], n, x.Stride, x.Stride)
	}
}

// keepsPull reports whether TensorFlow's max(Σx², ε) passes the gradient to
// Σx² (Σx² ≥ ε, compared in T as TensorFlow does): only then does the
// norm's term of the gradient exist (see pull in eps.go).
func keepsPull[T Float](sumSquares float64, eps T) bool {
	return float64(T(sumSquares)) >= float64(eps)
}

// checkMatrix is Matrix.check, first refusing a view whose reach,
// (Rows−1)·Stride + Cols, overflows int (Python passes what it is given).
func checkMatrix[T Float](m Matrix[T], name string) error {
	if m.Rows > 1 && m.Cols > 0 && m.Stride > 0 && m.Stride > (math.MaxInt-m.Cols)/(m.Rows-1) {
		return fmt.Errorf("cosloss: %s is %d×%d with row stride %d, which reaches past any buffer",
			name, m.Rows, m.Cols, m.Stride)
	}
	return m.check(name)
}

// checkPairs checks that x (n×d) and y (m×d) can be paired.
func checkPairs[T Float](x, y Matrix[T], xName, yName string) error {
	if err := checkMatrix(x, xName); err != nil {
		return err
	}
	if err := checkMatrix(y, yName); err != nil {
		return err
	}
	if x.Cols != y.Cols {
		return fmt.Errorf("cosloss: %s has %d columns but %s has %d", xName, x.Cols, yName, y.Cols)
	}
	return nil
}

// checkShape checks that m is rows × cols and holds its elements.
func checkShape[T Float](m Matrix[T], name string, rows, cols int) error {
	if err := checkMatrix(m, name); err != nil {
		return err
	}
	if m.Rows != rows || m.Cols != cols {
		return fmt.Errorf("cosloss: %s is %d×%d, want %d×%d", name, m.Rows, m.Cols, rows, cols)
	}
	return nil
}

// CosineMatrix writes out[i, j] = cos(row i of x, row j of y) for x n×d
// and y m×d into out (n×m); see the file comment for the arithmetic. When
// x and y are the same matrix its norms are computed once and only the
// tiles on and above the diagonal are multiplied: by a·b = b·a, the (j, i)
// product has the bits of the (i, j) one, and each side gets its own
// epilogue, T(dot·r_j·r_i) below the diagonal. eps floors Σx² (TensorFlow's
// 1e-12: a zero row has cosine 0 with everything).
func CosineMatrix[T Float](out Matrix[T], x, y Matrix[T], eps T) error {
	if err := checkPairs(x, y, "x", "y"); err != nil {
		return err
	}
	if err := checkShape(out, "out", x.Rows, y.Rows); err != nil {
		return err
	}
	n, m, d := x.Rows, y.Rows, x.Cols
	if n == 0 || m == 0 {
		return nil
	}
	self := sameMatrix(x, y)
	rx, ry := invNorms(x, eps), []float64(nil)
	tr, tc := pairTileRows, pairTileCols
	if self {
		ry, tr, tc = rx, pairSelfTile, pairSelfTile
	} else {
		ry = invNorms(y, eps)
	}
	// Column blocks of whole tiles whose transposed Y fits pairBlockBytes.
	size := 8
	if isFloat32[T]() {
		size = 4
	}
	block := max(pairBlockBytes/(max(d, 1)*size)/tc, 1) * tc
	block = min(block, (m+tc-1)/tc*tc)
	yt := make([]T, d*transposedStride(min(block, m)))
	rowTiles := (n + tr - 1) / tr
	for c0 := 0; c0 < m; c0 += block {
		c1 := min(c0+block, m)
		w := c1 - c0
		ld := transposedStride(w)
		bt := Matrix[T]{Data: yt[:d*ld], Rows: d, Cols: w, Stride: ld}
		if d > 0 {
			splitRange((w+transposeRows-1)/transposeRows, w*d, transposeJob[T]{bt, rowsOf(y, c0, c1)})
		}
		job := cosineTiles[T]{out: out, x: x, yt: bt, c0: c0, rx: rx, ry: ry, tr: tr, tc: tc}
		job.colTiles = (w + tc - 1) / tc
		tiles := rowTiles * job.colTiles
		if self {
			// Tiles (ti, tj) with ti ≤ tj, tj in this block, tj-major.
			job.self, job.tj0 = true, c0/tc
			tiles = 0
			for tj := job.tj0; tj < job.tj0+job.colTiles; tj++ {
				tiles += tj + 1
			}
		}
		splitRange(tiles, tiles*tr*tc*max(d, 1), job)
	}
	return nil
}

// transposeRows is how many rows of Y one transposition task covers.
const transposeRows = 256

// transposeJob writes the transpose of src (w×d) into dst (d×w), task t
// being src's rows [t·transposeRows, (t+1)·transposeRows).
type transposeJob[T Float] struct {
	dst, src Matrix[T]
}

func (j transposeJob[T]) run(lo, hi int) {
	r0, r1 := lo*transposeRows, min(hi*transposeRows, j.src.Rows)
	transposeInto(j.dst.Data[r0:], j.dst.Stride, sub(j.src, r0, r1, 0, j.src.Cols))
}

// transposeInto writes dst[p·ldd + i] = src[i, p], 16×16 elements at a
// time through a block on the stack: each line of src is read once and each
// line of dst written once. Scattering straight into dst took 6 ns an
// element at 4096×4096: with a row stride of a power of two, the 16 lines
// a block writes share one L1 set (12 ways) and evict each other before
// they are full.
func transposeInto[T Float](dst []T, ldd int, src Matrix[T]) {
	const b = 16
	var blk [b * b]T
	rows, cols := src.Rows, src.Cols
	for i0 := 0; i0 < rows; i0 += b {
		h := min(b, rows-i0)
		for p0 := 0; p0 < cols; p0 += b {
			w := min(b, cols-p0)
			for i := range h {
				row := src.Data[(i0+i)*src.Stride+p0:][:w]
				for q, v := range row {
					blk[q*b+i] = v
				}
			}
			for q := range w {
				out := dst[(p0+q)*ldd+i0:][:h]
				for i := range out {
					out[i] = blk[q*b+i]
				}
			}
		}
	}
}

// transposedStride is the row stride of Y's transposed block of w
// columns: w rounded up to whole cache lines, plus one, so that its rows
// are not a power of two apart (see transposeInto).
func transposedStride(w int) int { return (w+15)&^15 + 16 }

// cosineTiles is CosineMatrix's job for one column block [c0, c0 + yt.Cols)
// of the output. For two matrices task t is the tile (t / colTiles, t %
// colTiles) of tr×tc elements; for x against itself the tasks are the
// square tiles (ti, tj), ti ≤ tj, of block tiles tj0, tj0+1, …, and each
// writes its mirror (tj, ti) too.
type cosineTiles[T Float] struct {
	out, x   Matrix[T]
	yt       Matrix[T] // Yᵀ's block: d × (the block's width)
	c0       int
	rx, ry   []float64
	tr, tc   int
	colTiles int
	self     bool
	tj0      int
}

func (j cosineTiles[T]) run(lo, hi int) {
	if j.self {
		j.runSelf(lo, hi)
		return
	}
	n, c1 := j.x.Rows, j.c0+j.yt.Cols
	for t := lo; t < hi; t++ {
		i0, j0 := t/j.colTiles*j.tr, j.c0+t%j.colTiles*j.tc
		i1, j1 := min(i0+j.tr, n), min(j0+j.tc, c1)
		scaleTile(j.tile(i0, i1, j0, j1), j.rx[i0:i1], j.ry[j0:j1])
	}
}

// tile computes the products of output tile [i0, i1) × [j0, j1) and
// scales them into cosines.
func (j cosineTiles[T]) tile(i0, i1, j0, j1 int) Matrix[T] {
	tile := sub(j.out, i0, i1, j0, j1)
	mustMatMul(tile, rowsOf(j.x, i0, i1), NoTrans, sub(j.yt, 0, j.yt.Rows, j0-j.c0, j1-j.c0), NoTrans, false)
	return tile
}

// scaleTile is the epilogue: tile[i, k] = T(float64(tile[i, k])·ri[i]·rj[k]).
func scaleTile[T Float](tile Matrix[T], ri, rj []float64) {
	for i, a := range ri {
		scaleRow(tile.Data[i*tile.Stride:i*tile.Stride+len(rj)], a, rj, false)
	}
}

func (j cosineTiles[T]) runSelf(lo, hi int) {
	// The first task's (ti, tj): column tj holds tj + 1 tasks.
	ti, tj, t := 0, j.tj0, lo
	for t > tj {
		t -= tj + 1
		tj++
	}
	ti = t
	n, s := j.x.Rows, j.tr
	for range hi - lo {
		i0, j0 := ti*s, tj*s
		i1, j1 := min(i0+s, n), min(j0+s, n)
		if j0 < n {
			tile := j.tile(i0, i1, j0, j1)
			if ti != tj {
				// The mirror first, while tile still holds the products.
				mirror := sub(j.out, j0, j1, i0, i1)
				transposeInto(mirror.Data, mirror.Stride, tile)
				scaleTile(mirror, j.rx[j0:j1], j.rx[i0:i1])
			}
			scaleTile(tile, j.rx[i0:i1], j.rx[j0:j1])
		}
		if ti++; ti > tj {
			tj++
			ti = 0
		}
	}
}

// CosineMatrixGrad writes the gradients of Σ_ij U_ij·cos_ij (U the n×m
// upstream) with respect to x into dx (n×d) and y into dy (m×d), either
// of which may have no Data (Rows 0 is not enough: give it Data nil) to
// skip it. With r = 1/√max(Σx², ε),
//
//	d cos_ij / d x_i = r_i·r_j·y_j − cos_ij·r_i²·x_i
//
// the second term being dropped where ε wins the max (TensorFlow's
// l2_normalize gradient, finite at zero rows), so
//
//	dx = r∘[(U∘r_y)·Y] − r²∘rowsum(U∘cos)∘X
//
// and dy likewise with Uᵀ. Both products go through MatMul, the cosine
// tiles are recomputed, and the memory is two gradRows×gradCols tiles per
// piece of work: no n×m matrix beyond U.
func CosineMatrixGrad[T Float](x, y, upstream, dx, dy Matrix[T], eps T) error {
	if err := checkPairs(x, y, "x", "y"); err != nil {
		return err
	}
	if err := checkShape(upstream, "upstream", x.Rows, y.Rows); err != nil {
		return err
	}
	wantX, wantY := dx.Data != nil, dy.Data != nil
	if wantX {
		if err := checkShape(dx, "dx", x.Rows, x.Cols); err != nil {
			return err
		}
	}
	if wantY {
		if err := checkShape(dy, "dy", y.Rows, y.Cols); err != nil {
			return err
		}
	}
	if x.Cols == 0 || (!wantX && !wantY) {
		return nil
	}
	rx, sx := rowNorms(x, eps)
	ry, sy := rowNorms(y, eps)
	work := x.Rows * y.Rows * x.Cols * 2
	if wantX {
		splitRange((x.Rows+gradRows-1)/gradRows, work,
			gradPass[T]{x: x, y: y, u: upstream, d: dx, ra: rx, rb: ry, sa: sx, eps: eps})
	}
	if wantY {
		splitRange((y.Rows+gradRows-1)/gradRows, work,
			gradPass[T]{x: y, y: x, u: upstream, uTrans: true, d: dy, ra: ry, rb: rx, sa: sy, eps: eps})
	}
	return nil
}

// CosineMatrixSelfGrad is CosineMatrixGrad for y = x (CosineMatrix(out,
// x, x, eps)): the gradient with respect to x through both sides, written
// into dx. It is the dx pass with U + Uᵀ as the upstream, one product
// instead of two.
func CosineMatrixSelfGrad[T Float](x, upstream, dx Matrix[T], eps T) error {
	if err := checkMatrix(x, "x"); err != nil {
		return err
	}
	if err := checkShape(upstream, "upstream", x.Rows, x.Rows); err != nil {
		return err
	}
	if err := checkShape(dx, "dx", x.Rows, x.Cols); err != nil {
		return err
	}
	if x.Cols == 0 || x.Rows == 0 {
		return nil
	}
	r, s := rowNorms(x, eps)
	splitRange((x.Rows+gradRows-1)/gradRows, x.Rows*x.Rows*x.Cols*2,
		gradPass[T]{x: x, y: x, u: upstream, self: true, d: dx, ra: r, rb: r, sa: s, eps: eps})
	return nil
}

// gradPass writes d, the gradient for the rows of x (a), partnered with the
// rows of y (b), in blocks of gradRows rows (task t is block t). The
// upstream of pair (a, b) is u[a, b], or u[b, a] when uTrans (the dy pass,
// where x is the caller's y), or u[a, b] + u[b, a] when self. The cosine of
// a pair is float64(dot)·r_x·r_y with x's norm first, as CosineMatrix has
// it, whichever side the pass is for.
type gradPass[T Float] struct {
	x, y, u, d   Matrix[T]
	uTrans, self bool
	ra, rb, sa   []float64
	eps          T
}

func (g gradPass[T]) run(lo, hi int) {
	bj := min(gradCols, g.y.Rows)
	bi := min(gradRows, g.x.Rows)
	if bj == 0 {
		for t := lo; t < hi; t++ {
			i0, i1 := t*gradRows, min((t+1)*gradRows, g.x.Rows)
			for i := i0; i < i1; i++ {
				clear(g.d.Data[i*g.d.Stride : i*g.d.Stride+g.d.Cols])
			}
		}
		return
	}
	ctile := Dense(make([]T, bi*bj), bi, bj)
	wtile := Dense(make([]T, bi*bj), bi, bj)
	var s [gradRows]float64
	for t := lo; t < hi; t++ {
		i0, i1 := t*gradRows, min((t+1)*gradRows, g.x.Rows)
		rows := i1 - i0
		xa, da := rowsOf(g.x, i0, i1), rowsOf(g.d, i0, i1)
		clear(s[:rows])
		for j0 := 0; j0 < g.y.Rows; j0 += gradCols {
			j1 := min(j0+gradCols, g.y.Rows)
			cols := j1 - j0
			c := Matrix[T]{Data: ctile.Data, Rows: rows, Cols: cols, Stride: cols}
			w := Matrix[T]{Data: wtile.Data, Rows: rows, Cols: cols, Stride: cols}
			yb := rowsOf(g.y, j0, j1)
			mustMatMul(c, xa, NoTrans, yb, Trans, false)
			for i := range rows {
				ra := g.ra[i0+i]
				crow := c.Data[i*cols : (i+1)*cols]
				wrow := w.Data[i*cols : (i+1)*cols]
				acc := s[i]
				for k := range cols {
					u := g.upstreamAt(i0+i, j0+k)
					rb := g.rb[j0+k]
					var cos float64
					if g.uTrans {
						// x here is the caller's y: its norm goes second.
						cos = float64(crow[k]) * rb * ra
					} else {
						cos = float64(crow[k]) * ra * rb
					}
					acc += u * cos
					wrow[k] = T(u * rb)
				}
				s[i] = acc
			}
			mustMatMul(da, w, NoTrans, yb, NoTrans, j0 > 0)
		}
		for i := range rows {
			ra := g.ra[i0+i]
			p := 0.0
			if keepsPull(g.sa[i0+i], g.eps) {
				p = ra * ra * s[i]
			}
			drow := da.Data[i*da.Stride : i*da.Stride+da.Cols]
			xrow := xa.Data[i*xa.Stride : i*xa.Stride+xa.Cols]
			for k := range drow {
				drow[k] = T(ra*float64(drow[k]) - p*float64(xrow[k]))
			}
		}
	}
}

// upstreamAt is the upstream of the pair (row a of x, row b of y).
func (g gradPass[T]) upstreamAt(a, b int) float64 {
	u := g.u
	switch {
	case g.self:
		return float64(u.Data[a*u.Stride+b]) + float64(u.Data[b*u.Stride+a])
	case g.uTrans:
		return float64(u.Data[b*u.Stride+a])
	}
	return float64(u.Data[a*u.Stride+b])
}
