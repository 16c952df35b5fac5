package cosloss

import (
	"fmt"
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Matrix products for the all-pairs work (pairwise cosines, top-k, the
// contrastive losses). Each is compute-bound, so unlike the row sums they
// run at float32 width for float32 inputs.
//
// The canonical order of a product (every kernel set computes it, bit for
// bit): element (i, j) of C = op(A)·op(B) is one chain of fused
// multiply-adds over p = 0, 1, …, k−1,
//
//	c = fma(op(A)[i,p], op(B)[p,j], c)
//
// in the element type T (one rounding per step), starting from +0, or from
// C's own value when the product is added to C. Blocking over k therefore
// keeps the bits as long as the partial c is stored in T between blocks,
// and a split of C's elements between workers never changes them. Since
// a·b = b·a, the (i, j) element of A·Bᵀ has the bits of the (j, i) element
// of B·Aᵀ. For float32 the portable set emulates a float32 FMA exactly
// (fma32).

// Matrix is a row-major view of Rows × Cols elements: element (i, j) is
// Data[i*Stride+j].
type Matrix[T Float] struct {
	Data       []T
	Rows, Cols int
	Stride     int
}

// Dense views data as a C-ordered rows × cols matrix.
func Dense[T Float](data []T, rows, cols int) Matrix[T] {
	return Matrix[T]{Data: data, Rows: rows, Cols: cols, Stride: cols}
}

// At is element (i, j).
func (m Matrix[T]) At(i, j int) T { return m.Data[i*m.Stride+j] }

// check reports whether Data holds every element the view can touch.
func (m Matrix[T]) check(name string) error {
	if m.Rows < 0 || m.Cols < 0 || m.Stride < m.Cols && m.Rows > 1 {
		return fmt.Errorf("cosloss: %s is %d×%d with row stride %d", name, m.Rows, m.Cols, m.Stride)
	}
	if m.Rows > 0 && m.Cols > 0 && len(m.Data) < (m.Rows-1)*m.Stride+m.Cols {
		return fmt.Errorf("cosloss: %s is %d×%d with row stride %d but holds %d elements",
			name, m.Rows, m.Cols, m.Stride, len(m.Data))
	}
	return nil
}

// Op says whether a product reads a matrix as it is or transposed.
type Op bool

const (
	NoTrans Op = false
	Trans   Op = true
)

// dims is op(m)'s rows and columns.
func dims[T Float](m Matrix[T], op Op) (rows, cols int) {
	if op == Trans {
		return m.Cols, m.Rows
	}
	return m.Rows, m.Cols
}

// at is op(m)[i, p].
func at[T Float](m Matrix[T], op Op, i, p int) T {
	if op == Trans {
		return m.Data[p*m.Stride+i]
	}
	return m.Data[i*m.Stride+p]
}

// checkProduct checks that C = op(A)·op(B) fits and returns k.
func checkProduct[T Float](c, a Matrix[T], opA Op, b Matrix[T], opB Op) (int, error) {
	for _, e := range []error{c.check("C"), a.check("A"), b.check("B")} {
		if e != nil {
			return 0, e
		}
	}
	m, k := dims(a, opA)
	kb, n := dims(b, opB)
	if k != kb || c.Rows != m || c.Cols != n {
		return 0, fmt.Errorf("cosloss: product of op(A) %d×%d and op(B) %d×%d into C %d×%d",
			m, k, kb, n, c.Rows, c.Cols)
	}
	return k, nil
}

// MatMul sets C to op(A)·op(B), or adds the product to C when add is true,
// in the canonical order, on one goroutine.
func MatMul[T Float](c, a Matrix[T], opA Op, b Matrix[T], opB Op, add bool) error {
	k, err := checkProduct(c, a, opA, b, opB)
	if err != nil {
		return err
	}
	matMul(c, a, opA, b, opB, k, add)
	return nil
}

// MatMulParallel is MatMul with C's elements split across Workers()
// goroutines when the product is large enough to pay for them. Every
// element is still one chain computed by one goroutine, so the bits do not
// depend on the number of workers.
func MatMulParallel[T Float](c, a Matrix[T], opA Op, b Matrix[T], opB Op, add bool) error {
	k, err := checkProduct(c, a, opA, b, opB)
	if err != nil {
		return err
	}
	if c.Rows == 0 || c.Cols == 0 {
		return nil
	}
	flops := 2 * c.Rows * c.Cols * k
	if Workers() == 1 || flops < gemmParallelMinFlops {
		matMul(c, a, opA, b, opB, k, add)
		return nil
	}
	splitProduct(c, a, opA, b, opB, k, add, flops)
	return nil
}

// matMulReference is the canonical order written out element by element:
// the definition the kernel sets are tested against.
func matMulReference[T Float](c, a Matrix[T], opA Op, b Matrix[T], opB Op, k int, add bool) {
	for i := range c.Rows {
		for j := range c.Cols {
			var acc T
			if add {
				acc = c.Data[i*c.Stride+j]
			}
			for p := range k {
				acc = fma(at(a, opA, i, p), at(b, opB, p, j), acc)
			}
			c.Data[i*c.Stride+j] = acc
		}
	}
}

// fma is a·b + c rounded once to T.
func fma[T Float](a, b, c T) T {
	if isFloat32[T]() {
		return T(fma32(float32(a), float32(b), float32(c)))
	}
	return T(math.FMA(float64(a), float64(b), float64(c)))
}

// fma32 is a·b + c rounded once to float32, as a float32 FMA instruction
// computes it. The product is exact in float64 (24+24 bits); the sum is
// rounded to float64 with round-to-odd, which makes the final rounding to
// float32 correct (Boldo and Melquiond, "Emulation of FMA and correctly
// rounded sums: proved algorithms using rounding to odd", 2008): an odd
// last bit marks an inexact sum, so it can never pose as a float32 tie.
func fma32(a, b, c float32) float32 {
	p := float64(a) * float64(b)
	s := p + float64(c)
	// TwoSum: the exact error of the rounded sum (NaN when s overflows or
	// an input is infinite or NaN, which float32(s) then handles).
	bv := s - p
	e := (p - (s - bv)) + (float64(c) - bv)
	if e != 0 && !math.IsNaN(e) && !math.IsInf(s, 0) {
		bits := math.Float64bits(s)
		if bits&1 == 0 {
			// Step one ulp towards the exact value: away from zero when the
			// error has s's sign, towards zero when not.
			if (e > 0) == (s > 0) {
				bits++
			} else {
				bits--
			}
			s = math.Float64frombits(bits)
		}
	}
	return float32(s)
}

// A gemmKernel is a kernel set's micro-kernel for one element type and the
// blocking the driver uses around it. The driver packs op(A) into panels
// of mr rows, stored column by column (element (r, p) of a panel at
// p·mr + r), and op(B) into panels of nr columns, stored row by row
// (element (p, j) at p·nr + j), zero-padded past the matrix's edge; tile
// then computes one mr×nr tile of C from one panel of each. A kernel with
// tileRows takes A's panels row by row instead (element (r, p) at
// r·kc + p) when op(A) is A itself: then each panel row is one copy of a
// run of A's row, where the column-by-column order makes the packing
// scatter single elements (a quarter of the time of 256×256×8192
// products at the AVX-512 kernel's speed).
type gemmKernel[T Float] struct {
	mr, nr int
	// kc is how much of the sum one pass over C takes; mc and nc (multiples
	// of mr and nr) are the rows of op(A) and columns of op(B) packed at a
	// time: a kc×nr panel of B stays in L1 cache while the tile loop
	// walks the mc/mr panels of A, which stay in L2.
	kc, mc, nc int
	// tile continues the chains of the mr×nr tile at c (row stride ldc)
	// over the kc steps of the panels a and b: from C's values when load
	// is true, else from +0. a holds at least mr·kc elements, b nr·kc, c
	// (mr−1)·ldc + nr.
	tile func(c []T, ldc int, a, b []T, kc int, load bool)
	// tileRows, if not nil, is tile with A's panel row by row.
	tileRows func(c []T, ldc int, a, b []T, kc int, load bool)
}

// gemmKernelOf is the active set's micro-kernel for T.
func gemmKernelOf[T Float]() *gemmKernel[T] {
	if isFloat32[T]() {
		return (*gemmKernel[T])(unsafe.Pointer(&active.gemm32))
	}
	return (*gemmKernel[T])(unsafe.Pointer(&active.gemm64))
}

// matMul is the blocked product: for each block of nc columns and kc steps
// of the sum, pack op(B)'s block once; for each block of mc rows, pack
// op(A)'s block and run the micro-kernel over its tiles. Every element's
// chain runs over p in order (the kc blocks in turn, the partial sums
// stored in C between them), so the bits are matMulReference's.
func matMul[T Float](c, a Matrix[T], opA Op, b Matrix[T], opB Op, k int, add bool) {
	matMulFrom(c, a, opA, blocksOfB[T]{b: b, opB: opB}, k, add)
}

// blocksOfB is where matMulFrom finds each kc×nc block of op(B) in panels:
// packed from b as the block comes (matMul), or read from panels packed
// once for many products (pre, from column col0 on: matMulPrepacked).
type blocksOfB[T Float] struct {
	b         Matrix[T]
	opB       Op
	pre       prepackedB[T]
	prepacked bool
	col0      int
}

// block returns the panels of op(B)[p0:p0+kb, j0:j0+nb], packing them into
// buf when they are not packed already.
func (s blocksOfB[T]) block(buf []T, p0, kb, j0, nb, nr int) []T {
	if s.prepacked {
		width := panelCount(s.pre.n, nr) * nr
		return s.pre.data[p0*width+(s.col0+j0)*kb:]
	}
	packB(buf, s.b, s.opB, p0, kb, j0, nb, nr)
	return buf
}

// matMulFrom is matMul with op(B)'s blocks from src.
func matMulFrom[T Float](c, a Matrix[T], opA Op, src blocksOfB[T], k int, add bool) {
	m, n := c.Rows, c.Cols
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if !add {
			for i := range m {
				clear(c.Data[i*c.Stride : i*c.Stride+n])
			}
		}
		return
	}
	g := gemmKernelOf[T]()
	buf, slot := getGemmBuffers[T](g)
	defer putGemmBuffers(buf, slot)
	mr, nr := g.mr, g.nr
	tile, rowsA := g.tile, opA == NoTrans && g.tileRows != nil
	if rowsA {
		tile = g.tileRows
	}
	for j0 := 0; j0 < n; j0 += g.nc {
		nb := min(g.nc, n-j0)
		for p0 := 0; p0 < k; p0 += g.kc {
			kb := min(g.kc, k-p0)
			load := add || p0 > 0
			blk := src.block(buf.b, p0, kb, j0, nb, nr)
			for i0 := 0; i0 < m; i0 += g.mc {
				mb := min(g.mc, m-i0)
				packA(buf.a, a, opA, i0, mb, p0, kb, mr, rowsA)
				for jr := 0; jr < nb; jr += nr {
					bp := blk[jr*kb : (jr+nr)*kb]
					cols := min(nr, nb-jr)
					for ir := 0; ir < mb; ir += mr {
						ap := buf.a[ir*kb : (ir+mr)*kb]
						rows := min(mr, mb-ir)
						ci := (i0+ir)*c.Stride + j0 + jr
						if rows == mr && cols == nr {
							tile(c.Data[ci:], c.Stride, ap, bp, kb, load)
						} else {
							edgeTile(tile, nr, buf.c, c.Data[ci:], c.Stride, rows, cols, ap, bp, kb, load)
						}
					}
				}
			}
		}
	}
}

// edgeTile runs the micro-kernel on a tile that C's edge cuts to rows ×
// cols: through a whole tile in t, copied in and out, so the kernel never
// touches elements outside C. The padding's chains are thrown away.
func edgeTile[T Float](tile func(c []T, ldc int, a, b []T, kc int, load bool), nr int, t, c []T, ldc, rows, cols int, a, b []T, kc int, load bool) {
	if load {
		for r := range rows {
			copy(t[r*nr:r*nr+cols], c[r*ldc:r*ldc+cols])
		}
	}
	tile(t, nr, a, b, kc, load)
	for r := range rows {
		copy(c[r*ldc:r*ldc+cols], t[r*nr:r*nr+cols])
	}
}

// packA copies op(A)[i0:i0+rows, p0:p0+kc] into panels of mr rows (see
// gemmKernel), column by column or, when byRows (op(A) = A), row by row;
// rows past the block's end zero.
func packA[T Float](dst []T, a Matrix[T], opA Op, i0, rows, p0, kc, mr int, byRows bool) {
	if opA == Trans && !byRows {
		packATrans(dst, a, i0, rows, p0, kc, mr)
		return
	}
	for ir := 0; ir < rows; ir += mr {
		panel := dst[ir*kc : (ir+mr)*kc]
		live := min(mr, rows-ir)
		if live < mr {
			clear(panel)
		}
		if byRows {
			for r := range live {
				copy(panel[r*kc:(r+1)*kc], a.Data[(i0+ir+r)*a.Stride+p0:][:kc])
			}
			continue
		}
		for r := range live {
			row := a.Data[(i0+ir+r)*a.Stride+p0:]
			row = row[:kc]
			for p, v := range row {
				panel[p*mr+r] = v
			}
		}
	}
}

// packATrans is packA for op(A) = Aᵀ: each step's mr values of a panel
// are neighbours in a row of A, copied in a loop (copy's call costs more
// than a few elements). The block goes a few steps at a time across all
// its panels: those rows of A stay in L1 cache, where one panel after
// another over all kc steps would reread kc rows whose strides, a power of
// two apart, share a few cache sets and evict each other.
func packATrans[T Float](dst []T, a Matrix[T], i0, rows, p0, kc, mr int) {
	const steps = 16
	for pc := 0; pc < kc; pc += steps {
		pe := min(pc+steps, kc)
		for ir := 0; ir < rows; ir += mr {
			panel := dst[ir*kc : (ir+mr)*kc]
			live := min(mr, rows-ir)
			if live < mr {
				clear(panel[pc*mr : pe*mr])
			}
			for p := pc; p < pe; p++ {
				row := a.Data[(p0+p)*a.Stride+i0+ir:][:live]
				step := panel[p*mr:][:live]
				for r, v := range row {
					step[r] = v
				}
			}
		}
	}
}

// packB copies op(B)[p0:p0+kc, j0:j0+cols] into panels of nr columns (see
// gemmKernel), columns past the block's end zero.
func packB[T Float](dst []T, b Matrix[T], opB Op, p0, kc, j0, cols, nr int) {
	for jr := 0; jr < cols; jr += nr {
		panel := dst[jr*kc : (jr+nr)*kc]
		live := min(nr, cols-jr)
		if live < nr {
			clear(panel)
		}
		if opB == NoTrans {
			for p := range kc {
				row := b.Data[(p0+p)*b.Stride+j0+jr:]
				copy(panel[p*nr:p*nr+live], row[:live])
			}
			continue
		}
		// op(B)[p, j] = B[j, p]: column j of the panel is a run of row j of B.
		for j := range live {
			row := b.Data[(j0+jr+j)*b.Stride+p0:]
			row = row[:kc]
			for p, v := range row {
				panel[p*nr+j] = v
			}
		}
	}
}

// gemmBuffers holds one call's packed blocks and its edge tile.
type gemmBuffers[T Float] struct {
	a, b, c []T
}

// fit grows the buffers to g's blocking; it allocates only when a kernel
// set with larger blocks runs for the first time.
func (buf *gemmBuffers[T]) fit(g *gemmKernel[T]) {
	grow := func(s []T, n int) []T {
		if len(s) < n {
			return make([]T, n)
		}
		return s
	}
	buf.a = grow(buf.a, g.mc*g.kc)
	buf.b = grow(buf.b, g.kc*g.nc)
	buf.c = grow(buf.c, g.mr*g.nr)
}

// A call's buffers come from gemmSlots, claimed with an atomic bit as
// sums.go's blocks are (no lock, which a fork()ed child could find held,
// and no allocation once each slot has been used); beyond len(gemmSlots)
// calls at once they come from gemmPool. A worker of MatMulParallel is a
// call of its own.
type gemmSlotSet[T Float] struct {
	bufs  [8]gemmBuffers[T]
	inUse atomic.Uint32
	pool  sync.Pool
}

var (
	gemmSlots32 gemmSlotSet[float32]
	gemmSlots64 gemmSlotSet[float64]
)

func gemmSlotsOf[T Float]() *gemmSlotSet[T] {
	if isFloat32[T]() {
		return (*gemmSlotSet[T])(unsafe.Pointer(&gemmSlots32))
	}
	return (*gemmSlotSet[T])(unsafe.Pointer(&gemmSlots64))
}

// getGemmBuffers returns buffers fitted to g and their slot (-1 for ones
// from the pool).
func getGemmBuffers[T Float](g *gemmKernel[T]) (*gemmBuffers[T], int) {
	s := gemmSlotsOf[T]()
	const all = 1<<len(s.bufs) - 1
	for {
		used := s.inUse.Load()
		free := ^used & all
		if free == 0 {
			buf, _ := s.pool.Get().(*gemmBuffers[T])
			if buf == nil {
				buf = new(gemmBuffers[T])
			}
			buf.fit(g)
			return buf, -1
		}
		i := bits.TrailingZeros32(free)
		if s.inUse.CompareAndSwap(used, used|1<<i) {
			s.bufs[i].fit(g)
			return &s.bufs[i], i
		}
	}
}

// putGemmBuffers releases what getGemmBuffers returned.
func putGemmBuffers[T Float](buf *gemmBuffers[T], slot int) {
	s := gemmSlotsOf[T]()
	if slot < 0 {
		s.pool.Put(buf)
		return
	}
	s.inUse.And(^uint32(1 << slot))
}

// gemmParallelMinFlops is the size (2·m·n·k) below which MatMulParallel
// stays on one goroutine: about 0.3 ms of work at the vector kernels'
// speed, where parallel.go's row sums split from a similar time.
const gemmParallelMinFlops = 1 << 25

// splitProduct shares C between workers: pieces of whole rows when C has
// at least as many rows as columns, else pieces of whole columns. Each
// piece packs its own blocks, so a piece re-packs the operand it shares
// with the others; the pieces are therefore few (gemmPiecesPerWorker a
// worker) and large.
func splitProduct[T Float](c, a Matrix[T], opA Op, b Matrix[T], opB Op, k int, add bool, flops int) {
	g := gemmKernelOf[T]()
	job := productJob[T]{c: c, a: a, opA: opA, b: b, opB: opB, k: k, add: add, byRows: c.Rows >= c.Cols}
	if job.byRows {
		job.unit, job.units = g.mr, (c.Rows+g.mr-1)/g.mr
	} else {
		job.unit, job.units = g.nr, (c.Cols+g.nr-1)/g.nr
	}
	job.chunks = min(job.units, gemmPiecesPerWorker*Workers())
	// splitRange counts work in elements read, against parallelMinWork;
	// scaled so that gemmParallelMinFlops is its threshold.
	work := int(min(int64(flops)/(gemmParallelMinFlops/parallelMinWork), math.MaxInt/2))
	splitRange(job.chunks, work, job)
}

// gemmPiecesPerWorker bounds how finely MatMulParallel cuts C: two pieces
// a worker let one whose core is busy elsewhere leave part of its share
// to the others, while each piece's packing of the shared operand stays
// small next to its arithmetic.
const gemmPiecesPerWorker = 2

// productJob computes a chunk of C's rows (or columns) at a time, each
// chunk a whole number of tiles.
type productJob[T Float] struct {
	c, a        Matrix[T]
	b           Matrix[T]
	opA, opB    Op
	k           int
	add, byRows bool
	unit, units int
	chunks      int
}

func (j productJob[T]) run(lo, hi int) {
	first, last := j.units*lo/j.chunks*j.unit, j.units*hi/j.chunks*j.unit
	c, a, b := j.c, j.a, j.b
	if j.byRows {
		last = min(last, c.Rows)
		c = c.rowsView(first, last)
		a = opRows(a, j.opA, first, last)
	} else {
		last = min(last, c.Cols)
		c = c.colsView(first, last)
		b = opCols(b, j.opB, first, last)
	}
	matMul(c, a, j.opA, b, j.opB, j.k, j.add)
}

// rowsView is rows [lo, hi) of m.
func (m Matrix[T]) rowsView(lo, hi int) Matrix[T] {
	v := Matrix[T]{Rows: hi - lo, Cols: m.Cols, Stride: m.Stride}
	if v.Rows > 0 && v.Cols > 0 {
		v.Data = m.Data[lo*m.Stride:]
	}
	return v
}

// colsView is columns [lo, hi) of m.
func (m Matrix[T]) colsView(lo, hi int) Matrix[T] {
	v := Matrix[T]{Rows: m.Rows, Cols: hi - lo, Stride: m.Stride}
	if v.Rows > 0 && v.Cols > 0 {
		v.Data = m.Data[lo:]
	}
	return v
}

// opRows is the matrix whose op is rows [lo, hi) of op(m).
func opRows[T Float](m Matrix[T], op Op, lo, hi int) Matrix[T] {
	if op == Trans {
		return m.colsView(lo, hi)
	}
	return m.rowsView(lo, hi)
}

// opCols is the matrix whose op is columns [lo, hi) of op(m).
func opCols[T Float](m Matrix[T], op Op, lo, hi int) Matrix[T] {
	if op == Trans {
		return m.rowsView(lo, hi)
	}
	return m.colsView(lo, hi)
}
