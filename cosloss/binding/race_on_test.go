//go:build race

package binding

// The race detector makes sync.Pool drop items at random, so pooled
// buffers are allocated again: allocation counts mean nothing under it.
const raceEnabled = true
