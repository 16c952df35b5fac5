package cosloss

import (
	"fmt"
	"math"
)

// Exact top-k search: for each query row, the k corpus rows of largest (or
// smallest) cosine, with CosineMatrix's values bit for bit, found without
// the n×m matrix. Queries go in blocks of topkRows, each transposed once
// (as CosineMatrix does with its partner, so MatMul packs it by copies);
// each block runs over the corpus in tiles of corpus rows, a product
// (MatMul of corpus rows by the block's transpose: a·b = b·a, so tile
// element (c, q) has the bits of the (q, c) cosine's product) and the
// cosine epilogue per tile row. A tile row then holds one corpus row's
// cosines with every query of the block, and one vector pass compares them
// with the block's thresholds, each query's k-th best so far (NaN while its
// heap fills, which lets everything through): only the few that may beat it
// reach the query's bounded heap, kept in its row of the output. Before,
// the tile was query rows by corpus columns: MatMul packed the corpus as
// op(B) = corpusᵀ, a scatter of single elements, once per 128 queries, and
// each query's row went through a scalar threshold loop; at 4096 queries
// against 100000×256 those took more time than the products.
//
// The order is total: NaN ranks above every number (as numpy's sort and
// torch.topk have it), equal values rank by the lower corpus index, so the
// chosen set and its order are unique, and splitting the corpus into parts
// whose heaps are merged afterwards gives the same bits.

const (
	topkRows = 1024
	// topkTileRows is the most corpus rows a product tile takes (a
	// 768×1024 float32 tile is 3 MiB). At 4096×100000×256 the time beyond
	// the products was the same at 384, 768 and 1152 rows (about 45% of
	// it MatMul's packing copies, which fall with more rows, and 35% the
	// epilogue, which rises as the tile leaves L2 cache); the threshold pass
	// and heaps together were 5% of the products' time.
	topkTileRows = 768
	// topkTileBytes bounds the product tiles of all workers together.
	topkTileBytes = 16 << 20
)

// topkOrder is the search's total order on (value, corpus index).
type topkOrder[T Float] struct{ largest bool }

// better reports whether (a, ia) ranks before (b, ib).
func (o topkOrder[T]) better(a T, ia int64, b T, ib int64) bool {
	an, bn := a != a, b != b
	switch {
	case an || bn:
		if an && bn {
			return ia < ib
		}
		// NaN ranks above every number: first when largest, last if not.
		return an == o.largest
	case a == b:
		return ia < ib
	case o.largest:
		return a > b
	}
	return a < b
}

// TopK writes, for each query row i, the min(k, m) corpus rows of largest
// cosine (smallest when !largest) into row i of values (n × min(k, m)) and
// of indices (n·min(k, m) corpus row numbers, row-major), best first. The
// values are CosineMatrix's bits. Memory beyond the outputs: the norms,
// a bounded product tile per worker (topkTileBytes in all), a transposed
// block of at most topkRows queries per worker, and, when there
// are fewer query blocks than workers and the corpus is split between them,
// heaps for the extra parts.
func TopK[T Float](values Matrix[T], indices []int64, queries, corpus Matrix[T], k int, largest bool, eps T) error {
	if err := checkPairs(queries, corpus, "queries", "corpus"); err != nil {
		return err
	}
	if k < 0 {
		return fmt.Errorf("cosloss: k must be at least 0, got %d", k)
	}
	n, m := queries.Rows, corpus.Rows
	kk := min(k, m)
	if err := checkShape(values, "values", n, kk); err != nil {
		return err
	}
	if len(indices) != n*kk {
		return fmt.Errorf("cosloss: indices holds %d elements, want %d×%d", len(indices), n, kk)
	}
	if n == 0 || kk == 0 {
		return nil
	}
	rq, rc := invNorms(queries, eps), invNorms(corpus, eps)
	blocks := (n + topkRows - 1) / topkRows
	// Split the corpus too when there are fewer query blocks than workers
	// can share (one query against a large corpus, say).
	w := Workers()
	parts := 1
	if work := n * m * max(queries.Cols, 1); w > 1 && work >= parallelMinWork && blocks < 2*w {
		parts = min((2*w+blocks-1)/blocks, max(m/topkTileRows, 1))
	}
	size := 8
	if isFloat32[T]() {
		size = 4
	}
	// Corpus rows a tile: whole 12s (the micro-kernels' 6 or 4 rows).
	tileRows := min(max(topkTileBytes/(w*min(topkRows, n)*size)/12*12, 12), topkTileRows, m)
	job := topkJob[T]{
		queries: queries, corpus: corpus, rq: rq, rc: rc,
		order: topkOrder[T]{largest}, k: kk, parts: parts, cols: tileRows,
		values: values, indices: indices,
	}
	job.sizes = make([]int32, parts*n)
	if parts > 1 {
		job.extraValues = make([]T, (parts-1)*n*kk)
		job.extraIndices = make([]int64, (parts-1)*n*kk)
	}
	splitRange(blocks*parts, n*m*max(queries.Cols, 1), job)
	splitRange(blocks, n*kk*parts*8, topkFinish[T]{job})
	return nil
}

// topkJob searches part p of the corpus for query block b in task
// t = b·parts + p. Part 0's heaps live in values and indices; part p's in
// the extra arrays, n·k apiece; sizes[p·n + i] is the size of query i's heap
// for part p.
type topkJob[T Float] struct {
	queries, corpus Matrix[T]
	rq, rc          []float64
	order           topkOrder[T]
	k, parts, cols  int // cols: corpus rows a product tile takes
	values          Matrix[T]
	indices         []int64
	extraValues     []T
	extraIndices    []int64
	sizes           []int32
}

// heap is query i's heap for part p: its values and indices.
func (j topkJob[T]) heap(p, i int) ([]T, []int64) {
	if p == 0 {
		return j.values.Data[i*j.values.Stride : i*j.values.Stride+j.k], j.indices[i*j.k : (i+1)*j.k]
	}
	off := ((p-1)*j.queries.Rows + i) * j.k
	return j.extraValues[off : off+j.k], j.extraIndices[off : off+j.k]
}

func (j topkJob[T]) run(lo, hi int) {
	n, m, d := j.queries.Rows, j.corpus.Rows, j.queries.Cols
	bq := min(topkRows, n)
	ld := transposedStride(bq)
	qt := make([]T, d*ld)
	tile := make([]T, j.cols*bq)
	thr := make([]T, bq)
	cand := make([]int32, bq)
	count := make([]int, bq)
	for t := lo; t < hi; t++ {
		b, p := t/j.parts, t%j.parts
		i0, i1 := b*topkRows, min((b+1)*topkRows, n)
		c0, c1 := m*p/j.parts, m*(p+1)/j.parts
		rows := i1 - i0
		clear(count[:rows])
		nan := T(math.NaN())
		for q := range thr[:rows] {
			thr[q] = nan
		}
		qb := Matrix[T]{Data: qt, Rows: d, Cols: rows, Stride: ld}
		transposeInto(qt, ld, rowsOf(j.queries, i0, i1))
		rq := j.rq[i0:i1]
		for j0 := c0; j0 < c1; j0 += j.cols {
			j1 := min(j0+j.cols, c1)
			c := Matrix[T]{Data: tile, Rows: j1 - j0, Cols: rows, Stride: rows}
			mustMatMul(c, rowsOf(j.corpus, j0, j1), NoTrans, qb, NoTrans, false)
			for r := range j1 - j0 {
				row := c.Data[r*rows : (r+1)*rows]
				// T(dot·r_q·r_c): the query's norm first, as in CosineMatrix.
				scaleRow(row, j.rc[j0+r], rq, true)
				nc := aboveThreshold(row, thr[:rows], cand, j.order.largest)
				for _, q := range cand[:nc] {
					vals, idx := j.heap(p, i0+int(q))
					size := offer(vals, idx, count[q], row[q], int64(j0+r), j.order)
					count[q] = size
					if size == len(vals) {
						thr[q] = vals[0]
					}
				}
			}
		}
		for i := range rows {
			j.sizes[p*n+i0+i] = int32(count[i])
		}
	}
}

// The heaps keep their worst entry at the root: no child ranks after its
// parent.
func siftUp[T Float](vals []T, idx []int64, c int, o topkOrder[T]) {
	for c > 0 {
		p := (c - 1) / 2
		if !o.better(vals[p], idx[p], vals[c], idx[c]) {
			return
		}
		vals[p], vals[c] = vals[c], vals[p]
		idx[p], idx[c] = idx[c], idx[p]
		c = p
	}
}

func siftDown[T Float](vals []T, idx []int64, p, size int, o topkOrder[T]) {
	for {
		c := 2*p + 1
		if c >= size {
			return
		}
		if c+1 < size && o.better(vals[c], idx[c], vals[c+1], idx[c+1]) {
			c++ // the worse child
		}
		if !o.better(vals[p], idx[p], vals[c], idx[c]) {
			return
		}
		vals[p], vals[c] = vals[c], vals[p]
		idx[p], idx[c] = idx[c], idx[p]
		p = c
	}
}

// offer puts (v, i) into the heap of size entries (capacity len(vals)) if
// it ranks before the root or the heap has room; it returns the new size.
func offer[T Float](vals []T, idx []int64, size int, v T, i int64, o topkOrder[T]) int {
	if size < len(vals) {
		vals[size], idx[size] = v, i
		siftUp(vals, idx, size, o)
		return size + 1
	}
	if o.better(v, i, vals[0], idx[0]) {
		vals[0], idx[0] = v, i
		siftDown(vals, idx, 0, size, o)
	}
	return size
}

// topkFinish merges each query's extra parts into its part-0 heap and sorts
// it, best first; task b is query block b.
type topkFinish[T Float] struct{ j topkJob[T] }

func (f topkFinish[T]) run(lo, hi int) {
	j := f.j
	n := j.queries.Rows
	for b := lo; b < hi; b++ {
		for i := b * topkRows; i < min((b+1)*topkRows, n); i++ {
			vals, idx := j.heap(0, i)
			size := int(j.sizes[i])
			for p := 1; p < j.parts; p++ {
				pv, pi := j.heap(p, i)
				for e := range int(j.sizes[p*n+i]) {
					size = offer(vals, idx, size, pv[e], pi[e], j.order)
				}
			}
			// Heapsort: the root (worst) goes to the end, repeatedly.
			for end := size - 1; end > 0; end-- {
				vals[0], vals[end] = vals[end], vals[0]
				idx[0], idx[end] = idx[end], idx[0]
				siftDown(vals, idx, 0, end, j.order)
			}
		}
	}
}
