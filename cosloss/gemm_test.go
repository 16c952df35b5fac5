package cosloss

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// fma32Big is a·b + c rounded once to float32, through exact rationals.
func fma32Big(a, b, c float32) float32 {
	x := new(big.Rat).Mul(new(big.Rat).SetFloat64(float64(a)), new(big.Rat).SetFloat64(float64(b)))
	x.Add(x, new(big.Rat).SetFloat64(float64(c)))
	f, _ := x.Float32()
	return f
}

func TestFma32RoundsOnce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		a := float32(r.NormFloat64())
		b := float32(r.NormFloat64())
		// c near -a·b makes the sum cancel; c near a float32 tie of the
		// product makes double rounding show.
		var c float32
		switch r.IntN(3) {
		case 0:
			c = float32(r.NormFloat64())
		case 1:
			c = -a * b * (1 + float32(r.NormFloat64())*1e-6)
		case 2:
			c = float32(r.NormFloat64()) * 1e-9
		}
		got, want := fma32(a, b, c), fma32Big(a, b, c)
		if math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("fma32(%v, %v, %v) = %v, want %v", a, b, c, got, want)
		}
	}
}

func TestFma32Specials(t *testing.T) {
	inf := float32(math.Inf(1))
	max := float32(math.MaxFloat32)
	for _, tc := range []struct{ a, b, c, want float32 }{
		{inf, 1, 1, inf},
		{max, 2, 0, inf},
		{max, 2, -inf, float32(math.Inf(-1))},
		{1, 1, -1, 0},
		{1e-30, 1e-30, 0, 0},
		{1e-20, 1e-20, 0, 1e-40},
	} {
		got := fma32(tc.a, tc.b, tc.c)
		if math.Float32bits(got) != math.Float32bits(tc.want) {
			t.Errorf("fma32(%v, %v, %v) = %v, want %v", tc.a, tc.b, tc.c, got, tc.want)
		}
	}
	if got := fma32(inf, 0, 1); !math.IsNaN(float64(got)) {
		t.Errorf("fma32(inf, 0, 1) = %v, want NaN", got)
	}
}

// bigFMA is a·b + c rounded once to float64, via exact rationals.
func bigFMA(a, b, c float64) float64 {
	x := new(big.Rat).Mul(new(big.Rat).SetFloat64(a), new(big.Rat).SetFloat64(b))
	x.Add(x, new(big.Rat).SetFloat64(c))
	f, _ := x.Float64()
	return f
}

// sameValue reports whether x and y are the same value bit for bit, any two
// NaNs counting as equal (their payloads are not part of the contract).
func sameValue[T Float](x, y T) bool {
	if x != x && y != y {
		return true
	}
	if isFloat32[T]() {
		return math.Float32bits(float32(x)) == math.Float32bits(float32(y))
	}
	return math.Float64bits(float64(x)) == math.Float64bits(float64(y))
}

// embedded stores a rows×cols matrix inside a larger parent, at row r0 and
// column c0 with a row stride beyond cols; the parent's other elements are
// NaN, so a product that reads outside the view shows it, and a product
// that writes outside it is caught by checkUntouched.
func embedded[T Float](rows, cols int, rng *rand.Rand, fill func() T) Matrix[T] {
	r0, c0 := rng.IntN(3), rng.IntN(3)
	stride := cols + c0 + rng.IntN(4)
	parent := make([]T, (r0+rows+1)*stride)
	nan := T(math.NaN())
	for i := range parent {
		parent[i] = nan
	}
	m := Matrix[T]{Data: parent[r0*stride+c0:], Rows: rows, Cols: cols, Stride: stride}
	for i := range rows {
		for j := range cols {
			m.Data[i*stride+j] = fill()
		}
	}
	return m
}

// operand is an m×k (opA NoTrans) or k×m (Trans) matrix holding op(X) =
// the given m×k values.
func operand[T Float](x [][]T, op Op, rng *rand.Rand) Matrix[T] {
	rows, cols := len(x), len(x[0])
	if op == Trans {
		rows, cols = cols, rows
	}
	m := embedded[T](rows, cols, rng, func() T { return 0 })
	for i := range x {
		for p, v := range x[i] {
			if op == Trans {
				m.Data[p*m.Stride+i] = v
			} else {
				m.Data[i*m.Stride+p] = v
			}
		}
	}
	return m
}

// leading is the view of op(m)'s leading rows×cols block, as a matrix for op.
func leading[T Float](m Matrix[T], op Op, rows, cols int) Matrix[T] {
	if op == Trans {
		rows, cols = cols, rows
	}
	v := Matrix[T]{Data: m.Data, Rows: rows, Cols: cols, Stride: m.Stride}
	if rows == 0 || cols == 0 {
		v.Data = nil
	}
	return v
}

// chains holds, for each element (i, j) of the largest product a test
// makes, the reference chain after each step p: every leading sub-product
// of k steps has element (i, j) = chain[i][j][k−1]. One reference thus
// serves every size the test tries.
type chains[T Float] [][][]T

func referenceChains[T Float](x, y [][]T, start [][]T) chains[T] {
	m, k, n := len(x), len(x[0]), len(y[0])
	ch := make(chains[T], m)
	for i := range m {
		ch[i] = make([][]T, n)
		for j := range n {
			acc := T(0)
			if start != nil {
				acc = start[i][j]
			}
			ch[i][j] = make([]T, k)
			for p := range k {
				acc = fma(x[i][p], y[p][j], acc)
				ch[i][j][p] = acc
			}
		}
	}
	return ch
}

func randomRows[T Float](rows, cols int, rng *rand.Rand) [][]T {
	x := make([][]T, rows)
	for i := range x {
		x[i] = make([]T, cols)
		for p := range x[i] {
			x[i][p] = T(rng.NormFloat64())
		}
	}
	return x
}

// productSizes are the (m, n, k) a kernel set is checked at: every m and n
// up to two tiles and one over with the short sums, and the edges of the
// tile with sums across the kc blocks.
func productSizes(g gemmShape) [][3]int {
	var sizes [][3]int
	for k := range 18 {
		for m := 0; m <= 2*g.mr+1; m++ {
			for n := 0; n <= 2*g.nr+1; n++ {
				sizes = append(sizes, [3]int{m, n, k})
			}
		}
	}
	edges := func(t int) []int { return []int{1, t - 1, t, t + 1, 2*t + 1} }
	for _, k := range []int{g.kc - 1, g.kc, g.kc + 1, 2*g.kc + 3} {
		for _, m := range edges(g.mr) {
			for _, n := range edges(g.nr) {
				if m > 0 && n > 0 {
					sizes = append(sizes, [3]int{m, n, k})
				}
			}
		}
	}
	return sizes
}

// gemmShape is a kernel's tile and kc, whatever its element type.
type gemmShape struct{ mr, nr, kc int }

func shapeOf[T Float]() gemmShape {
	g := gemmKernelOf[T]()
	return gemmShape{g.mr, g.nr, g.kc}
}

// checkProducts runs MatMul (or MatMulParallel) at every product size for
// each op(A), op(B) and add, against the reference chains bit for bit.
func checkProducts[T Float](t *testing.T, mul func(c, a Matrix[T], opA Op, b Matrix[T], opB Op, add bool) error) int {
	g := shapeOf[T]()
	sizes := productSizes(g)
	if testing.Short() && Kernel() == "portable" {
		sizes = sizes[:0:0]
		for _, s := range productSizes(g) {
			if s[2] < 5 || s[2] > 17 {
				sizes = append(sizes, s)
			}
		}
	}
	var M, N, K int
	for _, s := range sizes {
		M, N, K = max(M, s[0]), max(N, s[1]), max(K, s[2])
	}
	rng := rand.New(rand.NewPCG(7, uint64(M*N*K)))
	x, y, c0 := randomRows[T](M, K, rng), randomRows[T](K, N, rng), randomRows[T](M, N, rng)
	fromZero, fromC := referenceChains(x, y, nil), referenceChains(x, y, c0)
	checked := 0
	for _, opA := range []Op{NoTrans, Trans} {
		for _, opB := range []Op{NoTrans, Trans} {
			a, b := operand(x, opA, rng), operand(y, opB, rng)
			for _, add := range []bool{false, true} {
				want := fromZero
				if add {
					want = fromC
				}
				for _, s := range sizes {
					m, n, k := s[0], s[1], s[2]
					c := embedded(m, n, rng, func() T { return T(rng.NormFloat64()) })
					for i := range m {
						for j := range n {
							c.Data[i*c.Stride+j] = c0[i][j]
						}
					}
					parent := append([]T(nil), c.Data...)
					if err := mul(c, leading(a, opA, m, k), opA, leading(b, opB, k, n), opB, add); err != nil {
						t.Fatal(err)
					}
					for i := range m {
						for j := range n {
							w := c0[i][j]
							if k > 0 {
								w = want[i][j][k-1]
							} else if !add {
								w = 0
							}
							if got := c.At(i, j); !sameValue(got, w) {
								t.Fatalf("%s opA=%v opB=%v add=%v %d×%d×%d: C[%d,%d] = %v, want %v",
									Kernel(), opA, opB, add, m, n, k, i, j, got, w)
							}
						}
					}
					checkUntouched(t, c, parent)
					checked++
				}
			}
		}
	}
	return checked
}

// checkUntouched fails if a product wrote outside C's view (the elements
// between its rows; beyond the last row the view's slice ends anyway).
func checkUntouched[T Float](t *testing.T, c Matrix[T], before []T) {
	t.Helper()
	for i := 0; i+1 < c.Rows; i++ {
		for j := c.Cols; j < c.Stride; j++ {
			if k := i*c.Stride + j; !sameValue(c.Data[k], before[k]) {
				t.Fatalf("%s: element %d between C's rows changed", Kernel(), k)
			}
		}
	}
}

func TestMatMulBits(t *testing.T) {
	n32 := checkProducts(t, MatMul[float32])
	n64 := checkProducts(t, MatMul[float64])
	t.Logf("%s: %d float32 and %d float64 products bit for bit", Kernel(), n32, n64)
}

// TestMatMulParallelBits checks MatMulParallel's bits on 1, 2 and 3
// workers, at sizes large enough to be split.
func TestMatMulParallelBits(t *testing.T) {
	defer SetWorkers(Workers())
	// Each just over gemmParallelMinFlops: rows split, columns split, and
	// a short sum.
	sizes := [][3]int{{301, 67, 900}, {29, 600, 1000}, {700, 700, 40}}
	if testing.Short() || Kernel() == "portable" {
		sizes = sizes[:2]
	}
	check := func(t *testing.T, m, n, k int, opA, opB Op) {
		rng := rand.New(rand.NewPCG(uint64(m), uint64(n*k)))
		x, y := randomRows[float32](m, k, rng), randomRows[float32](k, n, rng)
		a, b := operand(x, opA, rng), operand(y, opB, rng)
		want := Dense(make([]float32, m*n), m, n)
		if err := MatMul(want, a, opA, b, opB, false); err != nil {
			t.Fatal(err)
		}
		for _, w := range []int{1, 2, 3} {
			SetWorkers(w)
			got := Dense(make([]float32, m*n), m, n)
			if err := MatMulParallel(got, a, opA, b, opB, false); err != nil {
				t.Fatal(err)
			}
			for i, v := range got.Data {
				if !sameValue(v, want.Data[i]) {
					t.Fatalf("%s %d×%d×%d on %d workers: element %d = %v, want %v", Kernel(), m, n, k, w, i, v, want.Data[i])
				}
			}
		}
	}
	for _, s := range sizes {
		if 2*s[0]*s[1]*s[2] < gemmParallelMinFlops {
			t.Fatalf("%v is too small to be split", s)
		}
		check(t, s[0], s[1], s[2], NoTrans, Trans)
		check(t, s[0], s[1], s[2], Trans, NoTrans)
	}
}

// TestMatMulAccuracy compares products of random data with exact rational
// dot products: each chain's rounding errors stay within k·ε of Σ|a||b|.
func TestMatMulAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range [][3]int{{9, 70, 300}, {33, 5, 500}} {
		m, n, k := s[0], s[1], s[2]
		x, y := randomRows[float32](m, k, rng), randomRows[float32](k, n, rng)
		x64, y64 := randomRows[float64](m, k, rng), randomRows[float64](k, n, rng)
		c := Dense(make([]float32, m*n), m, n)
		c64 := Dense(make([]float64, m*n), m, n)
		if err := MatMul(c, operand(x, NoTrans, rng), NoTrans, operand(y, Trans, rng), Trans, false); err != nil {
			t.Fatal(err)
		}
		if err := MatMul(c64, operand(x64, Trans, rng), Trans, operand(y64, NoTrans, rng), NoTrans, false); err != nil {
			t.Fatal(err)
		}
		for i := range m {
			for j := range n {
				exact, abs := new(big.Rat), 0.0
				exact64, abs64 := new(big.Rat), 0.0
				for p := range k {
					exact.Add(exact, new(big.Rat).Mul(new(big.Rat).SetFloat64(float64(x[i][p])), new(big.Rat).SetFloat64(float64(y[p][j]))))
					abs += math.Abs(float64(x[i][p]) * float64(y[p][j]))
					exact64.Add(exact64, new(big.Rat).Mul(new(big.Rat).SetFloat64(x64[i][p]), new(big.Rat).SetFloat64(y64[p][j])))
					abs64 += math.Abs(x64[i][p] * y64[p][j])
				}
				e, _ := exact.Float64()
				e64, _ := exact64.Float64()
				if d := math.Abs(float64(c.At(i, j)) - e); d > float64(k)*0x1p-24*abs {
					t.Errorf("float32 C[%d,%d] = %v, exact %v", i, j, c.At(i, j), e)
				}
				if d := math.Abs(c64.At(i, j) - e64); d > float64(k)*0x1p-53*abs64 {
					t.Errorf("float64 C[%d,%d] = %v, exact %v", i, j, c64.At(i, j), e64)
				}
			}
		}
	}
}

func TestMatMulErrors(t *testing.T) {
	a := Dense(make([]float32, 6), 2, 3)
	if err := MatMul(Dense(make([]float32, 4), 2, 2), a, NoTrans, a, NoTrans, false); err == nil {
		t.Error("2×3 · 2×3 accepted")
	}
	if err := MatMulParallel(Dense(make([]float32, 4), 2, 2), a, NoTrans, a, Trans, false); err != nil {
		t.Error(err)
	}
	short := Matrix[float32]{Data: make([]float32, 5), Rows: 2, Cols: 3, Stride: 3}
	if err := MatMul(Dense(make([]float32, 4), 2, 2), short, NoTrans, a, Trans, false); err == nil {
		t.Error("a short A accepted")
	}
}

// TestMatMulAllocates checks that a steady-state call allocates nothing:
// its packing buffers are reused.
func TestMatMulAllocates(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := operand(randomRows[float32](70, 300, rng), NoTrans, rng)
	c := Dense(make([]float32, 70*70), 70, 70)
	if n := testing.AllocsPerRun(5, func() { _ = MatMul(c, x, NoTrans, x, Trans, false) }); n != 0 {
		t.Errorf("MatMul allocates %v times a call", n)
	}
}
