package cosloss

import (
	"fmt"
	"math"
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
	matMulReference(c, a, opA, b, opB, k, add)
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
