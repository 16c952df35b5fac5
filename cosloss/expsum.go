package cosloss

// expSum is the exponential pass of the contrastive losses' softmax rows,
// a kernel-set function: s[j] ← expCanonical(s[j] − m) for every j, and
// the sum of the new values. The canonical order of the sum is the row
// sums' (kernel.go): element j goes into lane j mod sumLanes of sumLanes
// float64 lanes that start at +0, in order of j, and the lanes combine in
// laneTotal's tree. The vector sets compute expCanonical's steps lane by
// lane, the same operations in the same order (no fused multiply-adds),
// so every set gives the same bits (expsum_test.go checks it).
func expSum(s []float64, m float64) float64 {
	return active.expSum(s, m)
}

// expSumPortable is expSum in plain Go: the definition the vector sets are
// tested against.
func expSumPortable(s []float64, m float64) float64 {
	var l [sumLanes]float64
	for j, v := range s {
		e := expCanonical(v - m)
		s[j] = e
		l[j%sumLanes] += e
	}
	return laneTotal(&l)
}
