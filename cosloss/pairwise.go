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
// parallel grain and keep the epilogue's reads of a tile in cache. A
// 256×256 tile is 256 KiB of float32, 512 KiB of float64; the packing a
// fast MatMul does per call, (256 + 256)·d elements, is under 1% of the
// tile's 256·256·d multiply-adds.
const (
	pairTile = 256
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
	n, m := x.Rows, y.Rows
	if n == 0 || m == 0 {
		return nil
	}
	rx := invNorms(x, eps)
	work := n * m * max(x.Cols, 1)
	if sameMatrix(x, y) {
		nt := (n + pairTile - 1) / pairTile
		splitRange(nt*(nt+1)/2, work/2, selfTiles[T]{out, x, rx, nt})
		return nil
	}
	ry := invNorms(y, eps)
	tilesPerRow := (m + pairTile - 1) / pairTile
	tiles := tilesPerRow * ((n + pairTile - 1) / pairTile)
	splitRange(tiles, work, cosineTiles[T]{out, x, y, rx, ry, tilesPerRow})
	return nil
}

// cosineTiles is CosineMatrix's job for two matrices: task t is the output
// tile (t / tilesPerRow, t % tilesPerRow).
type cosineTiles[T Float] struct {
	out, x, y   Matrix[T]
	rx, ry      []float64
	tilesPerRow int
}

func (j cosineTiles[T]) run(lo, hi int) {
	n, m := j.x.Rows, j.y.Rows
	for t := lo; t < hi; t++ {
		i0, j0 := t/j.tilesPerRow*pairTile, t%j.tilesPerRow*pairTile
		i1, j1 := min(i0+pairTile, n), min(j0+pairTile, m)
		tile := sub(j.out, i0, i1, j0, j1)
		mustMatMul(tile, rowsOf(j.x, i0, i1), NoTrans, rowsOf(j.y, j0, j1), Trans, false)
		scaleTile(tile, j.rx[i0:i1], j.ry[j0:j1])
	}
}

// scaleTile is the epilogue: tile[i, j] = T(float64(tile[i, j])·ri[i]·rj[j]).
func scaleTile[T Float](tile Matrix[T], ri, rj []float64) {
	for i, a := range ri {
		row := tile.Data[i*tile.Stride : i*tile.Stride+len(rj)]
		for k, b := range rj {
			row[k] = T(float64(row[k]) * a * b)
		}
	}
}

// selfTiles is CosineMatrix's job for x against itself: task t is the t-th
// tile pair (ti, tj) with ti ≤ tj, in row order; it writes both tiles.
type selfTiles[T Float] struct {
	out, x Matrix[T]
	r      []float64
	nt     int
}

func (j selfTiles[T]) run(lo, hi int) {
	// The first task's (ti, tj): row ti holds nt − ti tasks.
	ti, tj, t := 0, 0, lo
	for t >= j.nt-ti {
		t -= j.nt - ti
		ti++
	}
	tj = ti + t
	n := j.x.Rows
	for range hi - lo {
		i0, j0 := ti*pairTile, tj*pairTile
		i1, j1 := min(i0+pairTile, n), min(j0+pairTile, n)
		tile := sub(j.out, i0, i1, j0, j1)
		mustMatMul(tile, rowsOf(j.x, i0, i1), NoTrans, rowsOf(j.x, j0, j1), Trans, false)
		if ti != tj {
			// The mirror tile first, while tile still holds the products.
			mirror := sub(j.out, j0, j1, i0, i1)
			for i := range i1 - i0 {
				a := j.r[i0+i]
				for k := range j1 - j0 {
					mirror.Data[k*mirror.Stride+i] = T(float64(tile.Data[i*tile.Stride+k]) * j.r[j0+k] * a)
				}
			}
		}
		scaleTile(tile, j.r[i0:i1], j.r[j0:j1])
		if tj++; tj == j.nt {
			ti++
			tj = ti
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
