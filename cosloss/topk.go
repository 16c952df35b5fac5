package cosloss

import "fmt"

// Exact top-k search: for each query row, the k corpus rows of largest (or
// smallest) cosine, with CosineMatrix's values bit for bit, found without
// the n×m matrix. Queries go in blocks of topkRows; each block runs over
// the corpus in tiles of topkCols rows, a product (MatMul) and the cosine
// epilogue per tile, and feeds each query's bounded heap, kept in that
// query's row of the output, inside the tile. Once a heap is full its root
// is the k-th best so far; a tile row whose every cosine fails one
// comparison against it (the common case after the first tiles) touches
// no heap.
//
// The order is total: NaN ranks above every number (as numpy's sort and
// torch.topk have it), equal values rank by the lower corpus index, so the
// chosen set and its order are unique, and splitting the corpus into parts
// whose heaps are merged afterwards gives the same bits.

const (
	topkRows = 128
	topkCols = 1024
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
// a bounded product tile per worker (topkTileBytes in all), and, when there
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
		parts = min((2*w+blocks-1)/blocks, max(m/topkCols, 1))
	}
	size := 8
	if isFloat32[T]() {
		size = 4
	}
	cols := min(max(topkTileBytes/(w*topkRows*size), 64), topkCols, m)
	job := topkJob[T]{
		queries: queries, corpus: corpus, rq: rq, rc: rc,
		order: topkOrder[T]{largest}, k: kk, parts: parts, cols: cols,
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
	k, parts, cols  int
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
	n, m := j.queries.Rows, j.corpus.Rows
	tile := make([]T, min(topkRows, n)*j.cols)
	var count [topkRows]int
	for t := lo; t < hi; t++ {
		b, p := t/j.parts, t%j.parts
		i0, i1 := b*topkRows, min((b+1)*topkRows, n)
		c0, c1 := m*p/j.parts, m*(p+1)/j.parts
		rows := i1 - i0
		clear(count[:rows])
		q := rowsOf(j.queries, i0, i1)
		for j0 := c0; j0 < c1; j0 += j.cols {
			j1 := min(j0+j.cols, c1)
			cols := j1 - j0
			c := Matrix[T]{Data: tile, Rows: rows, Cols: cols, Stride: cols}
			mustMatMul(c, q, NoTrans, rowsOf(j.corpus, j0, j1), Trans, false)
			for i := range rows {
				vals, idx := j.heap(p, i0+i)
				count[i] = j.feed(vals, idx, count[i], c.Data[i*cols:(i+1)*cols], j.rq[i0+i], j.rc[j0:j1], j0)
			}
		}
		for i := range rows {
			j.sizes[p*n+i0+i] = int32(count[i])
		}
	}
}

// feed computes one tile row's cosines (dots: the products of query row
// with ri, corpus rows j0, j0+1, … with norms rj) and offers them to the
// heap vals/idx holding size entries, whose corpus indices are all below
// j0; it returns the new size. Each new index exceeds every index in the
// heap, so a value equal to the root's does not beat it.
func (j topkJob[T]) feed(vals []T, idx []int64, size int, dots []T, ri float64, rj []float64, j0 int) int {
	k := len(vals)
	kk := 0
	// Fill the heap first.
	for ; kk < len(dots) && size < k; kk++ {
		v := T(float64(dots[kk]) * ri * rj[kk])
		vals[size], idx[size] = v, int64(j0+kk)
		size++
		siftUp(vals, idx, size-1, j.order)
	}
	if kk == len(dots) {
		return size
	}
	// The cheap pass: every cosine against the root. v ≤ root (≥ when
	// !largest) cannot beat it, and is false for NaNs, which the exact
	// check then orders.
	rest := dots[kk:]
	thr := vals[0]
	any := false
	if j.order.largest {
		for q, d := range rest {
			v := T(float64(d) * ri * rj[kk+q])
			rest[q] = v
			any = any || !(v <= thr)
		}
	} else {
		for q, d := range rest {
			v := T(float64(d) * ri * rj[kk+q])
			rest[q] = v
			any = any || !(v >= thr)
		}
	}
	if !any {
		return size
	}
	for q, v := range rest {
		if !j.order.better(v, int64(j0+kk+q), vals[0], idx[0]) {
			continue
		}
		vals[0], idx[0] = v, int64(j0+kk+q)
		siftDown(vals, idx, 0, k, j.order)
	}
	return size
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
