package cosloss

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// randMatrix is a rows×cols matrix with row stride stride (≥ cols), the
// gaps holding NaN so that a kernel reading them shows it.
func randMatrix[T Float](r *rand.Rand, rows, cols, stride int) Matrix[T] {
	data := make([]T, max(rows*stride, 0))
	for i := range data {
		if i%stride < cols {
			data[i] = T(r.NormFloat64())
		} else {
			data[i] = T(math.NaN())
		}
	}
	return Matrix[T]{Data: data, Rows: rows, Cols: cols, Stride: stride}
}

// refNorms is r_i from the canonical row sums (the contract's norms).
func refNorms[T Float](x Matrix[T], eps T) []float64 {
	r := make([]float64, x.Rows)
	for i := range r {
		row := x.Data[i*x.Stride : i*x.Stride+x.Cols]
		s := canonicalSums(row, row).xx
		r[i] = 1 / math.Sqrt(max(s, float64(eps)))
	}
	return r
}

// refCosineBits is the contract's cos_ij, written out: the canonical
// product (one FMA chain in T), then T(dot·r_i·r_j).
func refCosineBits[T Float](x, y Matrix[T], eps T) []T {
	rx, ry := refNorms(x, eps), refNorms(y, eps)
	out := make([]T, x.Rows*y.Rows)
	for i := range x.Rows {
		for j := range y.Rows {
			var acc T
			for p := range x.Cols {
				acc = fma(x.At(i, p), y.At(j, p), acc)
			}
			out[i*y.Rows+j] = T(float64(acc) * rx[i] * ry[j])
		}
	}
	return out
}

// refCosine64 is cos_ij in float64 from scratch (sklearn's formula with
// TensorFlow's floor), for tolerance checks.
func refCosine64[T Float](x, y Matrix[T], i, j int) float64 {
	var d, a, b float64
	for p := range x.Cols {
		u, v := float64(x.At(i, p)), float64(y.At(j, p))
		d += u * v
		a += u * u
		b += v * v
	}
	return d / math.Sqrt(max(a, 1e-12)) / math.Sqrt(max(b, 1e-12))
}

func pairBits[T Float](t *testing.T, what string, got, want []T) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float64bits(float64(got[i])) != math.Float64bits(float64(want[i])) &&
			!(got[i] != got[i] && want[i] != want[i]) {
			t.Fatalf("%s: element %d is %v, want %v", what, i, got[i], want[i])
		}
	}
}

func withWorkers(t *testing.T, n int) {
	t.Helper()
	old := Workers()
	SetWorkers(n)
	t.Cleanup(func() { SetWorkers(old) })
}

// Shapes around the tiles (384×512, 384 square for x against itself), on strided views, in both types: the
// bits are the contract's.
func TestCosineMatrixIsTheCanonicalFormula(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, s := range []struct{ n, m, d, xs, ys int }{
		{1, 1, 1, 1, 1}, {3, 5, 7, 9, 7}, {257, 3, 5, 5, 8}, {2, 300, 17, 20, 17}, {260, 257, 3, 3, 4},
		{385, 513, 3, 4, 3}, {770, 1030, 2, 2, 5},
	} {
		x32, y32 := randMatrix[float32](r, s.n, s.d, s.xs), randMatrix[float32](r, s.m, s.d, s.ys)
		out32 := Dense(make([]float32, s.n*s.m), s.n, s.m)
		if err := CosineMatrix(out32, x32, y32, 1e-12); err != nil {
			t.Fatal(err)
		}
		pairBits(t, "float32", out32.Data, refCosineBits(x32, y32, float32(1e-12)))
		x64, y64 := randMatrix[float64](r, s.n, s.d, s.xs), randMatrix[float64](r, s.m, s.d, s.ys)
		out64 := Dense(make([]float64, s.n*s.m), s.n, s.m)
		if err := CosineMatrix(out64, x64, y64, 1e-12); err != nil {
			t.Fatal(err)
		}
		pairBits(t, "float64", out64.Data, refCosineBits(x64, y64, 1e-12))
		for i := range s.n {
			for j := range s.m {
				if want := refCosine64(x64, y64, i, j); math.Abs(out64.At(i, j)-want) > 1e-14 {
					t.Fatalf("(%d, %d): %v, want %v", i, j, out64.At(i, j), want)
				}
			}
		}
	}
}

// An output with a row stride wider than its columns keeps its gaps.
func TestCosineMatrixStridedOut(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 1))
	x, y := randMatrix[float64](r, 4, 3, 3), randMatrix[float64](r, 5, 3, 3)
	out := Matrix[float64]{Data: make([]float64, 4*7), Rows: 4, Cols: 5, Stride: 7}
	for i := range out.Data {
		out.Data[i] = -7
	}
	if err := CosineMatrix(out, x, y, 1e-12); err != nil {
		t.Fatal(err)
	}
	want := refCosineBits(x, y, 1e-12)
	for i := range 4 {
		pairBits(t, "row", out.Data[i*7:i*7+5], want[i*5:i*5+5])
		if out.Data[i*7+5] != -7 || out.Data[i*7+6] != -7 {
			t.Fatalf("row %d: gap overwritten: %v", i, out.Data[i*7:i*7+7])
		}
	}
}

// x against itself takes the symmetric path; its bits are those of x
// against a copy, on every tile layout and worker count.
func TestCosineMatrixSelfMatchesCopy(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 1))
	for _, n := range []int{1, 255, 256, 257, 600} {
		for _, w := range []int{1, 2, 3} {
			withWorkers(t, w)
			x := randMatrix[float32](r, n, 9, 9)
			y := Matrix[float32]{Data: slices.Clone(x.Data), Rows: n, Cols: 9, Stride: 9}
			self, other := Dense(make([]float32, n*n), n, n), Dense(make([]float32, n*n), n, n)
			if err := CosineMatrix(self, x, x, 1e-12); err != nil {
				t.Fatal(err)
			}
			if err := CosineMatrix(other, x, y, 1e-12); err != nil {
				t.Fatal(err)
			}
			pairBits(t, "self", self.Data, other.Data)
		}
	}
}

// Small tiles and column blocks (the transposed partner in several
// pieces) give the same bits, self and not, on every worker count.
func TestCosineMatrixBlocksAndTiles(t *testing.T) {
	defer func(r, c, s, b int) { pairTileRows, pairTileCols, pairSelfTile, pairBlockBytes = r, c, s, b }(
		pairTileRows, pairTileCols, pairSelfTile, pairBlockBytes)
	r := rand.New(rand.NewPCG(5, 1))
	x, y := randMatrix[float32](r, 101, 7, 9), randMatrix[float32](r, 203, 7, 8)
	x64 := randMatrix[float64](r, 101, 7, 9)
	wantXY, wantSelf := refCosineBits(x, y, float32(1e-12)), refCosineBits(x, x, float32(1e-12))
	want64 := refCosineBits(x64, x64, 1e-12)
	for _, c := range []struct{ rows, cols, self, block int }{
		{12, 16, 24, 7 * 4 * 40}, {6, 64, 6, 1}, {384, 512, 384, 8 << 20}, {5, 7, 11, 7 * 8 * 30},
	} {
		pairTileRows, pairTileCols, pairSelfTile, pairBlockBytes = c.rows, c.cols, c.self, c.block
		for _, w := range []int{1, 2, 3} {
			withWorkers(t, w)
			out := Dense(make([]float32, 101*203), 101, 203)
			if err := CosineMatrix(out, x, y, 1e-12); err != nil {
				t.Fatal(err)
			}
			pairBits(t, "x, y", out.Data, wantXY)
			self := Dense(make([]float32, 101*101), 101, 101)
			if err := CosineMatrix(self, x, x, 1e-12); err != nil {
				t.Fatal(err)
			}
			pairBits(t, "self", self.Data, wantSelf)
			self64 := Dense(make([]float64, 101*101), 101, 101)
			if err := CosineMatrix(self64, x64, x64, 1e-12); err != nil {
				t.Fatal(err)
			}
			pairBits(t, "self float64", self64.Data, want64)
		}
	}
}

// Splitting tiles over workers never changes a bit (enough work to split).
func TestCosineMatrixWorkersSameBits(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 1))
	x, y := randMatrix[float32](r, 300, 24, 24), randMatrix[float32](r, 530, 24, 24)
	var first []float32
	for _, w := range []int{1, 2, 3} {
		withWorkers(t, w)
		out := Dense(make([]float32, 300*530), 300, 530)
		if err := CosineMatrix(out, x, y, 1e-12); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = out.Data
		} else {
			pairBits(t, "workers", out.Data, first)
		}
	}
}

func TestCosineMatrixZeroRowsAndEmpty(t *testing.T) {
	x := Dense([]float64{0, 0, 1, 2}, 2, 2)
	y := Dense([]float64{3, 4, 0, 0}, 2, 2)
	out := Dense(make([]float64, 4), 2, 2)
	if err := CosineMatrix(out, x, y, 1e-12); err != nil {
		t.Fatal(err)
	}
	want := []float64{0, 0, 11 / (math.Sqrt(5) * 5), 0}
	for i, w := range want {
		if math.Abs(out.Data[i]-w) > 1e-15 {
			t.Fatalf("got %v, want %v", out.Data, want)
		}
	}
	// d = 0: every row is a zero row.
	e := Matrix[float64]{Rows: 3, Cols: 0, Stride: 0}
	out = Dense([]float64{9, 9, 9, 9, 9, 9}, 3, 2)
	if err := CosineMatrix(out, e, Matrix[float64]{Rows: 2}, 1e-12); err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(out.Data, func(v float64) bool { return v != 0 }) {
		t.Fatalf("d = 0: %v", out.Data)
	}
	// n = 0 and m = 0.
	if err := CosineMatrix(Matrix[float64]{Rows: 0, Cols: 2}, Matrix[float64]{Cols: 2}, y, 1e-12); err != nil {
		t.Fatal(err)
	}
	if err := CosineMatrix(Matrix[float64]{Rows: 2}, x, Matrix[float64]{Cols: 2}, 1e-12); err != nil {
		t.Fatal(err)
	}
}

func TestCosineMatrixErrors(t *testing.T) {
	x := Dense(make([]float32, 6), 2, 3)
	y := Dense(make([]float32, 8), 2, 4)
	for _, c := range []struct {
		err  error
		want string
	}{
		{CosineMatrix(Dense(make([]float32, 4), 2, 2), x, y, 0), "x has 3 columns but y has 4"},
		{CosineMatrix(Dense(make([]float32, 4), 2, 2), x, Dense(make([]float32, 5), 2, 3), 0), "y is 2×3 with row stride 3 but holds 5"},
		{CosineMatrix(Dense(make([]float32, 6), 3, 2), x, x, 0), "out is 3×2, want 2×2"},
		{CosineMatrixGrad(x, x, Dense(make([]float32, 4), 2, 2), Dense(make([]float32, 4), 2, 2), Matrix[float32]{}, 0), "dx is 2×2, want 2×3"},
		{CosineMatrixGrad(x, x, Dense(make([]float32, 3), 1, 3), x, Matrix[float32]{}, 0), "upstream is 1×3, want 2×2"},
		{CosineMatrixSelfGrad(x, Dense(make([]float32, 4), 2, 2), Dense(make([]float32, 8), 2, 4), 0), "dx is 2×4"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("error %v, want one mentioning %q", c.err, c.want)
		}
	}
}

// refGrad is the analytic gradient of Σ U∘cos in float64 (TensorFlow's
// rule: the norm term only where Σx² ≥ ε).
func refGrad(x, y, u Matrix[float64]) (dx, dy []float64) {
	n, m, d := x.Rows, y.Rows, x.Cols
	norm := func(a Matrix[float64], i int) (float64, bool) {
		s := 0.0
		for p := range d {
			s += a.At(i, p) * a.At(i, p)
		}
		return 1 / math.Sqrt(max(s, 1e-12)), s >= 1e-12
	}
	dx, dy = make([]float64, n*d), make([]float64, m*d)
	for i := range n {
		ri, ki := norm(x, i)
		for j := range m {
			rj, kj := norm(y, j)
			c := refCosine64(x, y, i, j)
			g := u.At(i, j)
			for p := range d {
				a, b := x.At(i, p), y.At(j, p)
				dx[i*d+p] += g * ri * rj * b
				dy[j*d+p] += g * ri * rj * a
				if ki {
					dx[i*d+p] -= g * c * ri * ri * a
				}
				if kj {
					dy[j*d+p] -= g * c * rj * rj * b
				}
			}
		}
	}
	return dx, dy
}

func pairClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	for i := range want {
		if math.Abs(got[i]-want[i]) > tol*(1+math.Abs(want[i])) {
			t.Fatalf("%s: element %d is %v, want %v", what, i, got[i], want[i])
		}
	}
}

func TestCosineMatrixGradMatchesTheAnalyticGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 1))
	for _, s := range []struct{ n, m, d int }{{1, 1, 1}, {3, 4, 5}, {130, 7, 3}, {5, 520, 4}, {0, 3, 2}, {3, 0, 2}} {
		x, y := randMatrix[float64](r, s.n, s.d, s.d+1), randMatrix[float64](r, s.m, s.d, s.d)
		if s.n > 1 {
			clear(x.Data[x.Stride : x.Stride+s.d]) // a zero row
		}
		u := randMatrix[float64](r, s.n, s.m, s.m+2)
		dx, dy := Dense(make([]float64, s.n*s.d), s.n, s.d), Dense(make([]float64, s.m*s.d), s.m, s.d)
		if dx.Data == nil {
			dx.Data = []float64{}
		}
		if dy.Data == nil {
			dy.Data = []float64{}
		}
		if err := CosineMatrixGrad(x, y, u, dx, dy, 1e-12); err != nil {
			t.Fatal(err)
		}
		wx, wy := refGrad(x, y, u)
		pairClose(t, "dx", dx.Data, wx, 1e-9)
		pairClose(t, "dy", dy.Data, wy, 1e-9)
	}
}

// Central differences of Σ U∘cos in float64 agree with the gradients,
// and the self gradient is dx + dy of x against a copy.
func TestCosineMatrixGradFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 1))
	x, y := randMatrix[float64](r, 4, 3, 3), randMatrix[float64](r, 5, 3, 3)
	u := randMatrix[float64](r, 4, 5, 5)
	loss := func(a, b Matrix[float64]) float64 {
		out := Dense(make([]float64, a.Rows*b.Rows), a.Rows, b.Rows)
		if err := CosineMatrix(out, a, b, 1e-12); err != nil {
			t.Fatal(err)
		}
		s := 0.0
		for i, v := range out.Data {
			s += v * u.Data[i]
		}
		return s
	}
	dx, dy := Dense(make([]float64, 12), 4, 3), Dense(make([]float64, 15), 5, 3)
	if err := CosineMatrixGrad(x, y, u, dx, dy, 1e-12); err != nil {
		t.Fatal(err)
	}
	pairClose(t, "dx", dx.Data, numericGrad(x.Data, func() float64 { return loss(x, y) }), 1e-6)
	pairClose(t, "dy", dy.Data, numericGrad(y.Data, func() float64 { return loss(x, y) }), 1e-6)

	us := randMatrix[float64](r, 4, 4, 4)
	self := Dense(make([]float64, 12), 4, 3)
	if err := CosineMatrixSelfGrad(x, us, self, 1e-12); err != nil {
		t.Fatal(err)
	}
	copyX := Matrix[float64]{Data: slices.Clone(x.Data), Rows: 4, Cols: 3, Stride: 3}
	gx, gy := Dense(make([]float64, 12), 4, 3), Dense(make([]float64, 12), 4, 3)
	if err := CosineMatrixGrad(x, copyX, us, gx, gy, 1e-12); err != nil {
		t.Fatal(err)
	}
	for i := range gx.Data {
		gx.Data[i] += gy.Data[i]
	}
	pairClose(t, "self", self.Data, gx.Data, 1e-12)
}

// A zero row's gradient is finite (1e6 per unit, TensorFlow's floor) and a
// NaN row spreads NaN only to the gradients its cosines reach.
func TestCosineMatrixGradZeroRow(t *testing.T) {
	x := Dense([]float64{0, 0}, 1, 2)
	y := Dense([]float64{1, 0, 0, 1}, 2, 2)
	u := Dense([]float64{1, 1}, 1, 2)
	dx, dy := Dense(make([]float64, 2), 1, 2), Dense(make([]float64, 4), 2, 2)
	if err := CosineMatrixGrad(x, y, u, dx, dy, 1e-12); err != nil {
		t.Fatal(err)
	}
	// d cos / d x = r_x·r_y·y with r_x = 1e6 (no norm term below ε).
	pairClose(t, "dx", dx.Data, []float64{1e6, 1e6}, 1e-12)
	pairClose(t, "dy", dy.Data, []float64{0, 0, 0, 0}, 0)
}

// The gradient passes split over workers without changing a bit.
func TestCosineMatrixGradWorkersSameBits(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 1))
	x, y := randMatrix[float32](r, 300, 16, 16), randMatrix[float32](r, 270, 16, 16)
	u := randMatrix[float32](r, 300, 270, 270)
	ux := randMatrix[float32](r, 300, 300, 300)
	var fx, fy, fs []float32
	for _, w := range []int{1, 2, 3} {
		withWorkers(t, w)
		dx, dy := Dense(make([]float32, 300*16), 300, 16), Dense(make([]float32, 270*16), 270, 16)
		if err := CosineMatrixGrad(x, y, u, dx, dy, 1e-12); err != nil {
			t.Fatal(err)
		}
		ds := Dense(make([]float32, 300*16), 300, 16)
		if err := CosineMatrixSelfGrad(x, ux, ds, 1e-12); err != nil {
			t.Fatal(err)
		}
		if fx == nil {
			fx, fy, fs = dx.Data, dy.Data, ds.Data
			continue
		}
		pairBits(t, "dx", dx.Data, fx)
		pairBits(t, "dy", dy.Data, fy)
		pairBits(t, "self", ds.Data, fs)
	}
}
