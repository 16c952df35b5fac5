//go:build !race

package cosloss

const raceEnabled = false
