//go:build goexperiment.simd && amd64

package cosloss

import (
	"math"
	"simd/archsimd"
	"unsafe"
)

// expSum's AVX-512 form: expCanonical's reduction, polynomial and scaling
// eight lanes at a time, with its special cases (NaN, overflow, underflow,
// subnormal results, |x| < 2^-28) chosen per lane by masks, under
// kernel_avx2.go's section rule. The canonical 16 lanes of the sum are two
// Float64x8.

// expConsts holds the section's constants, each broadcast to a vector:
// package memory, since a constant built inside a section would pass
// through a scalar register.
var expConsts = func() (c [expConstCount][8]float64) {
	for i, v := range [expConstCount]float64{
		log2e, 0.5, -0.5, ln2Hi, ln2Lo, expP1, expP2, expP3, expP4, expP5, 1, 2,
		expOverflow, expUnderflow, expNearZero, -expNearZero, 0x1p1023, 0x1p-1074,
		math.Inf(1),
	} {
		for l := range c[i] {
			c[i][l] = v
		}
	}
	return c
}()

var expIntConsts = [3][8]int64{
	{1023, 1023, 1023, 1023, 1023, 1023, 1023, 1023},
	{-1021, -1021, -1021, -1021, -1021, -1021, -1021, -1021},
	{1074, 1074, 1074, 1074, 1074, 1074, 1074, 1074},
}

const (
	ecLog2e = iota
	ecHalf
	ecMinusHalf
	ecLn2Hi
	ecLn2Lo
	ecP1
	ecP2
	ecP3
	ecP4
	ecP5
	ecOne
	ecTwo
	ecOverflow
	ecUnderflow
	ecNearZero
	ecMinusNearZero
	ecPow1023
	ecPowMinus1074
	ecInf
	expConstCount
)

func avx512ExpSum(s []float64, m float64) float64 {
	if len(s) == 0 {
		return 0
	}
	var mv [8]float64
	for l := range mv {
		mv[l] = m
	}
	var out [2]float64
	avx512ExpSumSection(&out, base(s), len(s), &mv)
	return out[0] + out[1]
}

func ec(i int) archsimd.Float64x8 { return archsimd.LoadFloat64x8(&expConsts[i]) }

// avx512ExpSumSection overwrites the n float64s at row with e^(x − m), m
// broadcast at mv, and writes the canonical tree's last pair of their
// lane sums into out. One loop of 8-element chunks, the last one masked:
// expCanonical's steps are written once, inline (a call would leave the
// section), and the chunks' sums alternate between the two halves of the
// 16 lanes by swapping them.
//
//go:noinline
//go:nocheckptr
func avx512ExpSumSection(out *[2]float64, row unsafe.Pointer, n int, mv *[8]float64) {
	m := archsimd.LoadFloat64x8(mv)
	var s0, s1 archsimd.Float64x8 // the lanes of the next chunk, and the others
	for k := 0; k < n; k += 8 {
		live := archsimd.Mask64x8FromBits(tailMask8(n-k, 0))
		x := archsimd.LoadMaskedFloat64x8(at64x8(row, k), live).Sub(m)
		t := ec(ecLog2e).Mul(x)
		half := ec(ecMinusHalf).Merge(ec(ecHalf), x.Less(archsimd.Float64x8{}))
		ki := t.Add(half).ConvertToInt64() // truncated, as int(·)
		fk := ki.ConvertToFloat64()
		hi := x.Sub(fk.Mul(ec(ecLn2Hi)))
		lo := fk.Mul(ec(ecLn2Lo))
		r := hi.Sub(lo)
		r2 := r.Mul(r)
		p := r2.Mul(ec(ecP5))
		p = r2.Mul(ec(ecP4).Add(p))
		p = r2.Mul(ec(ecP3).Add(p))
		p = r2.Mul(ec(ecP2).Add(p))
		p = r2.Mul(ec(ecP1).Add(p))
		c := r.Sub(p)
		y := ec(ecOne).Sub(lo.Sub(r.Mul(c).Div(ec(ecTwo).Sub(c))).Sub(hi))
		// timesPow2(y, k).
		k1023 := archsimd.LoadInt64x8(&expIntConsts[0])
		big := ki.Greater(k1023)
		y = y.Mul(ec(ecPow1023)).Merge(y, big)
		ki = ki.Sub(k1023).Merge(ki, big)
		tiny := ki.Less(archsimd.LoadInt64x8(&expIntConsts[1]))
		ki = ki.Add(archsimd.LoadInt64x8(&expIntConsts[2])).Merge(ki, tiny)
		e := y.Mul(ki.Add(k1023).ShiftAllLeft(52).AsFloat64x8())
		e = e.Mul(ec(ecPowMinus1074)).Merge(e, tiny)
		// The special cases, as expCanonical's switch (disjoint sets of lanes).
		near := x.Greater(ec(ecMinusNearZero)).And(x.Less(ec(ecNearZero)))
		e = ec(ecOne).Add(x).Merge(e, near)
		e = archsimd.Float64x8{}.Merge(e, x.Less(ec(ecUnderflow)))
		e = ec(ecInf).Merge(e, x.Greater(ec(ecOverflow)))
		e = x.Merge(e, x.IsNaN()).Masked(live)
		e.StoreMasked(at64x8(row, k), live)
		s0, s1 = s1, s0.Add(e)
	}
	if (n+7)/8%2 == 1 {
		s0, s1 = s1, s0
	}
	total8(s0, s1).Store(out)
	archsimd.ClearAVXUpperBits()
}
