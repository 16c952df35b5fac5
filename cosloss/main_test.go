package cosloss

import (
	"fmt"
	"os"
	"testing"
)

// TestMain runs every test once per kernel set this build and CPU have,
// so the portable and the SIMD paths are both held to the same tests.
// COSLOSS_KERNEL=name runs one set only (for profiling a benchmark).
func TestMain(m *testing.M) {
	code := 0
	names := Kernels()
	if name := os.Getenv("COSLOSS_KERNEL"); name != "" {
		names = []string{name}
	}
	for _, name := range names {
		if err := SetKernel(name); err != nil {
			panic(err)
		}
		fmt.Printf("kernel set %s\n", name)
		if c := m.Run(); c != 0 {
			code = c
		}
	}
	os.Exit(code)
}
