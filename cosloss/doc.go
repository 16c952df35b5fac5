// Package cosloss computes TensorFlow's cosine-similarity losses on plain Go
// slices: l2 normalization, row-wise cosine similarity and the loss forms
// built on it, and TF1's weighted reductions, for float32 and float64.
//
// Every function reduces along one axis of an array seen as
// Outer × Len × Inner (a View), so any single axis of a C-contiguous array,
// and many strided or broadcast arrays, are handled without copies.
//
// Numerics follow TensorFlow's op order (square, sum, max with epsilon,
// rsqrt, multiply) with each scalar step rounded to the element type, while
// sums are accumulated in float64 so that long float32 rows stay accurate.
// Cosine and CosineGrad can keep norms away from zero as PyTorch does
// instead (EpsRule).
package cosloss

// Files, one per kernel family:
//   - cosine.go: Cosine and CosineDistance, the loss forms, the finishing
//     of sums into cosines (ε floor, overflow, non-finite inputs);
//   - grad.go: the gradients of Cosine, L2Normalize and CosineDistance;
//   - eps.go: how a norm is kept away from zero (EpsRule: TensorFlow's or
//     PyTorch's ε) and what an overflowing sum of squares gives;
//   - normalize.go: L2Normalize;
//   - reduce.go: TF1's weighted reductions;
//   - sums.go: the walk that hands each slice's sums to a body, by row
//     (rowsums.go: along contiguous or strided slices) or by block of
//     neighbouring columns (colsums.go: the reduced axis is not the last);
//   - parallel.go: splitting a call across workers;
//   - view.go: layouts, strided views and their checks;
//   - kernel.go: the kernel-set registry and dispatch, with one file per
//     set: kernel_portable.go (gonum) and kernel_avx2.go (GOEXPERIMENT=simd).
