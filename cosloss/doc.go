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
package cosloss
