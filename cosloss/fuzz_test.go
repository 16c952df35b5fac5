package cosloss

import (
	"encoding/binary"
	"math"
	"testing"
)

// floatsFrom turns fuzz bytes into finite float32s of moderate size, so the
// float64 reference itself stays exact enough to compare against.
func floatsFrom(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		f := math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) || math.Abs(float64(f)) > 1e15 {
			f = float32(i%5) - 2
		}
		v[i] = f
	}
	return v
}

// FuzzCosine checks the kernel against the float64 formula of each ε rule
// on arbitrary rows, lengths and layouts, and that it never panics.
func FuzzCosine(f *testing.F) {
	f.Add([]byte{0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64}, uint8(2), uint8(0), uint8(0))
	f.Add(make([]byte, 64), uint8(4), uint8(3), uint8(1))
	f.Add([]byte{0, 0, 128, 48, 0, 0, 0, 0, 0, 0, 64, 64, 0, 0, 128, 64}, uint8(2), uint8(2), uint8(2))
	f.Fuzz(func(t *testing.T, raw []byte, lenSeed, formSeed, ruleSeed uint8) {
		data := floatsFrom(raw)
		if len(data) < 2 {
			return
		}
		half := len(data) / 2
		x, y := data[:half], data[half:2*half]
		n := 1 + int(lenSeed)%half
		l := Layout{Outer: half / n, Len: n, Inner: 1}
		if l.Outer == 0 {
			return
		}
		form := Form(int(formSeed) % 4)
		rule := epsRules[int(ruleSeed)%len(epsRules)]
		eps := float32(ruleEps(rule))
		out := make([]float32, l.Slices())
		if err := Cosine(Contiguous(x, l), Contiguous(y, l), form, out, rule, eps); err != nil {
			t.Fatal(err)
		}
		for o := 0; o < l.Outer; o++ {
			xs, ys := widen(x[o*n:(o+1)*n]), widen(y[o*n:(o+1)*n])
			want := refRule(refSlice{x: xs, y: ys}, rule, float64(eps), form, 1).value
			if overflows(xs) || overflows(ys) {
				continue // TensorFlow's float32 overflow rule, tested elsewhere
			}
			if got := float64(out[o]); math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
				t.Fatalf("row %d form %d rule %d: got %v want %v", o, form, rule, got, want)
			}
		}
	})
}

// FuzzL2Normalize checks that normalized rows have unit norm (or the
// ε-floor scale) and keep their direction.
func FuzzL2Normalize(f *testing.F) {
	f.Add([]byte{0, 0, 64, 64, 0, 0, 128, 64})
	f.Fuzz(func(t *testing.T, raw []byte) {
		x := floatsFrom(raw)
		if len(x) == 0 || overflows(widen(x)) {
			return
		}
		out := make([]float32, len(x))
		if err := L2Normalize(Contiguous(x, Layout{1, len(x), 1}), out, float32(DefaultEpsilon)); err != nil {
			t.Fatal(err)
		}
		var s float64
		for _, v := range widen(x) {
			s += v * v
		}
		scale := 1 / math.Sqrt(math.Max(s, float64(float32(DefaultEpsilon))))
		for k, v := range x {
			want := float64(v) * scale
			if math.Abs(float64(out[k])-want) > 1e-6*(1+math.Abs(want)) {
				t.Fatalf("element %d: got %v want %v", k, out[k], want)
			}
		}
	})
}

func widen(v []float32) []float64 {
	w := make([]float64, len(v))
	for i, f := range v {
		w[i] = float64(f)
	}
	return w
}

func overflows(v []float64) bool {
	var s float64
	for _, f := range v {
		s += f * f
	}
	return math.IsInf(float64(float32(s)), 0)
}

// FuzzMatMul checks the active kernel set's products against the reference,
// bit for bit, for arbitrary values (NaN and infinities included), shapes,
// ops and strides.
func FuzzMatMul(f *testing.F) {
	f.Add([]byte{0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64}, uint8(2), uint8(2), uint8(3), uint8(0))
	f.Add(make([]byte, 4*40*6), uint8(37), uint8(5), uint8(11), uint8(7))
	f.Fuzz(func(t *testing.T, raw []byte, mSeed, nSeed, kSeed, flags uint8) {
		v := make([]float32, len(raw)/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		m, n, k := int(mSeed)%40, int(nSeed)%70, int(kSeed)%40
		opA, opB, add := Op(flags&1 != 0), Op(flags&2 != 0), flags&4 != 0
		pad := int(flags>>3) % 3
		next := 0
		value := func() float32 {
			if len(v) == 0 {
				return 1
			}
			next++
			return v[next%len(v)]
		}
		mat := func(rows, cols int) Matrix[float32] {
			s := cols + pad
			d := make([]float32, rows*s)
			for i := range d {
				d[i] = value()
			}
			return Matrix[float32]{Data: d, Rows: rows, Cols: cols, Stride: s}
		}
		ar, ac := m, k
		if opA == Trans {
			ar, ac = k, m
		}
		br, bc := k, n
		if opB == Trans {
			br, bc = n, k
		}
		a, b, c := mat(ar, ac), mat(br, bc), mat(m, n)
		want := Matrix[float32]{Data: append([]float32(nil), c.Data...), Rows: m, Cols: n, Stride: c.Stride}
		if err := MatMul(c, a, opA, b, opB, add); err != nil {
			t.Fatal(err)
		}
		matMulReference(want, a, opA, b, opB, k, add)
		for i := range c.Data {
			if !sameValue(c.Data[i], want.Data[i]) {
				t.Fatalf("%s %d×%d×%d opA=%v opB=%v add=%v: element %d = %v, want %v",
					Kernel(), m, n, k, opA, opB, add, i, c.Data[i], want.Data[i])
			}
		}
	})
}
