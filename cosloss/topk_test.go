package cosloss

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// refTopK sorts each row of CosineMatrix's output in the search's order
// (stably, so ties keep the lower index) and keeps min(k, m) of it.
func refTopK[T Float](t *testing.T, q, c Matrix[T], k int, largest bool) ([]T, []int64) {
	t.Helper()
	n, m := q.Rows, c.Rows
	all := Dense(make([]T, n*m), n, m)
	if err := CosineMatrix(all, q, c, 1e-12); err != nil {
		t.Fatal(err)
	}
	kk := min(k, m)
	o := topkOrder[T]{largest}
	vals, idx := make([]T, 0, n*kk), make([]int64, 0, n*kk)
	for i := range n {
		order := make([]int64, m)
		for j := range order {
			order[j] = int64(j)
		}
		row := all.Data[i*m : (i+1)*m]
		slices.SortStableFunc(order, func(a, b int64) int {
			if o.better(row[a], a, row[b], b) {
				return -1
			}
			if o.better(row[b], b, row[a], a) {
				return 1
			}
			return 0
		})
		for _, j := range order[:kk] {
			vals = append(vals, row[j])
			idx = append(idx, j)
		}
	}
	return vals, idx
}

func runTopK[T Float](t *testing.T, q, c Matrix[T], k int, largest bool) ([]T, []int64) {
	t.Helper()
	kk := min(k, c.Rows)
	vals := Dense(make([]T, q.Rows*kk), q.Rows, kk)
	idx := make([]int64, q.Rows*kk)
	if err := TopK(vals, idx, q, c, k, largest, 1e-12); err != nil {
		t.Fatal(err)
	}
	return vals.Data, idx
}

func checkTopK[T Float](t *testing.T, what string, q, c Matrix[T], k int, largest bool) {
	t.Helper()
	gotV, gotI := runTopK(t, q, c, k, largest)
	wantV, wantI := refTopK(t, q, c, k, largest)
	pairBits(t, what+" values", gotV, wantV)
	if !slices.Equal(gotI, wantI) {
		t.Fatalf("%s: indices %v, want %v", what, gotI, wantI)
	}
}

func TestTopKMatchesSortedCosineMatrix(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 1))
	for _, s := range []struct{ n, m, d, k int }{
		{1, 1, 1, 1}, {3, 10, 4, 3}, {130, 40, 5, 7}, {2, 2100, 3, 5}, {5, 1100, 6, 1100}, {4, 9, 3, 20}, {3, 5, 0, 2},
		{1030, 800, 3, 4},
	} {
		for _, largest := range []bool{true, false} {
			q := randMatrix[float32](r, s.n, s.d, s.d+1)
			c := randMatrix[float32](r, s.m, s.d, s.d+2)
			checkTopK(t, "float32", q, c, s.k, largest)
			q64 := randMatrix[float64](r, s.n, s.d, s.d)
			c64 := randMatrix[float64](r, s.m, s.d, s.d)
			checkTopK(t, "float64", q64, c64, s.k, largest)
		}
	}
}

// Duplicate corpus rows tie: the lower index wins, in every tile and part.
func TestTopKTiesTakeTheLowerIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 1))
	base := randMatrix[float64](r, 5, 4, 4)
	c := Dense(make([]float64, 3000*4), 3000, 4)
	for j := range 3000 {
		copy(c.Data[j*4:j*4+4], base.Data[(j%5)*4:(j%5)*4+4])
	}
	q := randMatrix[float64](r, 3, 4, 4)
	for _, w := range []int{1, 3} {
		withWorkers(t, w)
		for _, largest := range []bool{true, false} {
			checkTopK(t, "ties", q, c, 12, largest)
		}
	}
	// Zero rows: every cosine 0, so indices 0, 1, 2, ...
	_, idx := runTopK(t, q, Dense(make([]float64, 40), 10, 4), 4, true)
	if !slices.Equal(idx[:4], []int64{0, 1, 2, 3}) {
		t.Fatalf("zero corpus: %v", idx)
	}
}

// NaN ranks above every number: first for largest, last otherwise.
func TestTopKNaN(t *testing.T) {
	q := Dense([]float64{1, 0}, 1, 2)
	c := Dense([]float64{1, 0, math.NaN(), 0, 0, 1, -1, 0, math.NaN(), 1}, 5, 2)
	v, idx := runTopK(t, q, c, 3, true)
	if !slices.Equal(idx, []int64{1, 4, 0}) || !math.IsNaN(v[0]) || v[2] != 1 {
		t.Fatalf("largest: %v %v", v, idx)
	}
	v, idx = runTopK(t, q, c, 4, false)
	if !slices.Equal(idx, []int64{3, 2, 0, 1}) || !math.IsNaN(v[3]) {
		t.Fatalf("smallest: %v %v", v, idx)
	}
	checkTopK(t, "NaN", q, c, 5, true)
	checkTopK(t, "NaN", q, c, 5, false)
}

// Splitting the corpus between workers (one query block) or the queries
// (many blocks) never changes a bit.
func TestTopKWorkersSameBits(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 1))
	for _, s := range []struct{ n, m, d, k int }{{1, 70000, 16, 10}, {300, 4000, 1, 5}, {300, 300, 12, 300}} {
		q := randMatrix[float32](r, s.n, s.d, s.d)
		c := randMatrix[float32](r, s.m, s.d, s.d)
		// Quantized values make ties common.
		for i := range c.Data {
			c.Data[i] = float32(math.Round(float64(c.Data[i]) * 2))
		}
		var fv []float32
		var fi []int64
		for _, w := range []int{1, 2, 3} {
			withWorkers(t, w)
			v, idx := runTopK(t, q, c, s.k, true)
			if fv == nil {
				fv, fi = v, idx
				wantV, wantI := refTopK(t, q, c, s.k, true)
				pairBits(t, "reference", v, wantV)
				if !slices.Equal(idx, wantI) {
					t.Fatalf("n=%d: indices differ from the reference", s.n)
				}
				continue
			}
			pairBits(t, "workers", v, fv)
			if !slices.Equal(idx, fi) {
				t.Fatalf("workers %d: indices differ", w)
			}
		}
	}
}

func TestTopKEmptyAndErrors(t *testing.T) {
	q := Dense([]float32{1, 2}, 1, 2)
	c := Dense([]float32{1, 2, 3, 4}, 2, 2)
	if err := TopK(Matrix[float32]{Rows: 1}, nil, q, c, 0, true, 0); err != nil {
		t.Errorf("k = 0: %v", err)
	}
	if err := TopK(Matrix[float32]{Rows: 1}, nil, q, Matrix[float32]{Cols: 2}, 3, true, 0); err != nil {
		t.Errorf("m = 0: %v", err)
	}
	if err := TopK(Matrix[float32]{Cols: 2}, nil, Matrix[float32]{Cols: 2}, c, 3, true, 0); err != nil {
		t.Errorf("n = 0: %v", err)
	}
	for _, e := range []struct {
		err  error
		want string
	}{
		{TopK(Dense(make([]float32, 2), 1, 2), make([]int64, 2), q, c, -1, true, 0), "k must be at least 0"},
		{TopK(Dense(make([]float32, 3), 1, 3), make([]int64, 2), q, c, 5, true, 0), "values is 1×3, want 1×2"},
		{TopK(Dense(make([]float32, 2), 1, 2), make([]int64, 1), q, c, 2, true, 0), "indices holds 1"},
		{TopK(Dense(make([]float32, 2), 1, 2), make([]int64, 2), q, Dense(make([]float32, 3), 1, 3), 2, true, 0), "queries has 2 columns but corpus has 3"},
	} {
		if e.err == nil || !strings.Contains(e.err.Error(), e.want) {
			t.Errorf("error %v, want one mentioning %q", e.err, e.want)
		}
	}
}

// The search allocates its outputs' worth plus bounded tiles and the
// norms, never the n×m matrix: 32 queries against 100000 corpus rows
// would be 26 MB of float64 cosines.
func TestTopKMemoryIsBounded(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 1))
	const n, m, d, k = 32, 100000, 1, 10
	q, c := randMatrix[float64](r, n, d, d), randMatrix[float64](r, m, d, d)
	vals := Dense(make([]float64, n*k), n, k)
	idx := make([]int64, n*k)
	for _, w := range []int{1, 2} {
		withWorkers(t, w)
		// A first call lets MatMul claim its packing buffers, which it
		// keeps for later calls.
		if err := TopK(vals, idx, q, c, k, true, 1e-12); err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if err := TopK(vals, idx, q, c, k, true, 1e-12); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		// Norms of both sides (8 bytes a row), a tile per piece of work
		// (32×1024 here; at most w of them live at once), the heaps of
		// corpus parts: under an eighth of the matrix.
		limit := uint64(8*(n+m) + 2<<20)
		if got := after.TotalAlloc - before.TotalAlloc; got > limit || got > n*m {
			t.Fatalf("workers %d: allocated %d bytes, limit %d (the matrix is %d)", w, got, limit, n*m*8)
		} else {
			t.Logf("workers %d: allocated %d bytes (the matrix is %d)", w, got, n*m*8)
		}
	}
}

// FuzzTopK checks the search against sorting CosineMatrix's rows, on
// arbitrary values (ties, zeros, NaN-free), shapes, k and order.
func FuzzTopK(f *testing.F) {
	f.Add(make([]byte, 64), uint8(2), uint8(3), uint8(2), true)
	f.Add([]byte{0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 128, 63, 0, 0, 128, 63}, uint8(1), uint8(2), uint8(9), false)
	f.Fuzz(func(t *testing.T, raw []byte, dSeed, nSeed, kSeed uint8, largest bool) {
		data := floatsFrom(raw)
		d := 1 + int(dSeed)%4
		rows := len(data) / d
		if rows < 2 {
			return
		}
		n := 1 + int(nSeed)%(rows-1)
		q := Dense(data[:n*d], n, d)
		c := Dense(data[n*d:rows*d], rows-n, d)
		checkTopK(t, "fuzz", q, c, int(kSeed)%(rows+2), largest)
	})
}
