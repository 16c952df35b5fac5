//go:build race

package cosloss

// raceEnabled: the race detector is on, which makes the reference loops
// far slower and allocation counts meaningless.
const raceEnabled = true
