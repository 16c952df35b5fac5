package cosloss

import (
	"fmt"
	"runtime"
	"testing"

	gonumblas "gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
)

// BenchmarkMatMul reports GFLOP/s (2·m·n·k per product) for the shapes the
// all-pairs work uses, per kernel set and worker count, next to gonum's
// Gemm in the same process: pairwise cosines of 4096×256 against 4096×256
// (A·Bᵀ), and the contrastive losses' 256×8192 batches (A·B and Aᵀ·B).
// The portable set runs only the float64 shapes with -short unset and is
// slow (its float32 FMA is emulated): pick it with -bench=.../portable.
func BenchmarkMatMul(b *testing.B) {
	defer SetKernel(Kernel())
	defer SetWorkers(Workers())
	all := Workers()
	for _, s := range []struct {
		name     string
		m, n, k  int
		opA, opB Op
	}{
		{"NT,m=4096,n=4096,k=256", 4096, 4096, 256, NoTrans, Trans},
		{"NN,m=256,n=256,k=8192", 256, 256, 8192, NoTrans, NoTrans},
		{"TN,m=256,n=256,k=8192", 256, 256, 8192, Trans, NoTrans},
	} {
		for _, w := range []int{1, all} {
			b.Run(fmt.Sprintf("float32/%s/workers=%d/gonum", s.name, w), func(b *testing.B) {
				benchGonum32(b, s.m, s.n, s.k, s.opA, s.opB, w)
			})
			b.Run(fmt.Sprintf("float64/%s/workers=%d/gonum", s.name, w), func(b *testing.B) {
				benchGonum64(b, s.m, s.n, s.k, s.opA, s.opB, w)
			})
			for _, set := range Kernels() {
				b.Run(fmt.Sprintf("float32/%s/workers=%d/%s", s.name, w, set), func(b *testing.B) {
					benchMatMul[float32](b, set, s.m, s.n, s.k, s.opA, s.opB, w)
				})
				b.Run(fmt.Sprintf("float64/%s/workers=%d/%s", s.name, w, set), func(b *testing.B) {
					benchMatMul[float64](b, set, s.m, s.n, s.k, s.opA, s.opB, w)
				})
			}
		}
	}
}

// operands makes op(A) m×k and op(B) k×n, stored as the ops say, and C.
func operands[T Float](m, n, k int, opA, opB Op) (c, a, bm Matrix[T]) {
	ar, ac := m, k
	if opA == Trans {
		ar, ac = k, m
	}
	br, bc := k, n
	if opB == Trans {
		br, bc = n, k
	}
	a = Dense(randomSlice[T](ar*ac, 1), ar, ac)
	bm = Dense(randomSlice[T](br*bc, 2), br, bc)
	return Dense(make([]T, m*n), m, n), a, bm
}

func reportGFLOPs(b *testing.B, m, n, k int) {
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func benchMatMul[T Float](b *testing.B, set string, m, n, k int, opA, opB Op, w int) {
	if err := SetKernel(set); err != nil {
		b.Fatal(err)
	}
	SetWorkers(w)
	c, a, bm := operands[T](m, n, k, opA, opB)
	for b.Loop() {
		if err := MatMulParallel(c, a, opA, bm, opB, false); err != nil {
			b.Fatal(err)
		}
	}
	reportGFLOPs(b, m, n, k)
}

func gonumOp(op Op) gonumblas.Transpose {
	if op == Trans {
		return gonumblas.Trans
	}
	return gonumblas.NoTrans
}

// gonum's Gemm splits work over goroutines of its own (as many as it
// likes); workers=1 pins it to one through GOMAXPROCS.
func benchGonum32(b *testing.B, m, n, k int, opA, opB Op, w int) {
	defer setProcs(w)()
	c, a, bm := operands[float32](m, n, k, opA, opB)
	ga := blas32.General{Rows: a.Rows, Cols: a.Cols, Stride: a.Stride, Data: a.Data}
	gb := blas32.General{Rows: bm.Rows, Cols: bm.Cols, Stride: bm.Stride, Data: bm.Data}
	gc := blas32.General{Rows: c.Rows, Cols: c.Cols, Stride: c.Stride, Data: c.Data}
	for b.Loop() {
		blas32.Gemm(gonumOp(opA), gonumOp(opB), 1, ga, gb, 0, gc)
	}
	reportGFLOPs(b, m, n, k)
}

func benchGonum64(b *testing.B, m, n, k int, opA, opB Op, w int) {
	defer setProcs(w)()
	c, a, bm := operands[float64](m, n, k, opA, opB)
	ga := blas64.General{Rows: a.Rows, Cols: a.Cols, Stride: a.Stride, Data: a.Data}
	gb := blas64.General{Rows: bm.Rows, Cols: bm.Cols, Stride: bm.Stride, Data: bm.Data}
	gc := blas64.General{Rows: c.Rows, Cols: c.Cols, Stride: c.Stride, Data: c.Data}
	for b.Loop() {
		blas64.Gemm(gonumOp(opA), gonumOp(opB), 1, ga, gb, 0, gc)
	}
	reportGFLOPs(b, m, n, k)
}

// setProcs sets GOMAXPROCS to w and returns what restores it.
func setProcs(w int) func() {
	old := runtime.GOMAXPROCS(w)
	return func() { runtime.GOMAXPROCS(old) }
}
