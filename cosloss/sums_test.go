package cosloss

import "testing"

// Blocks come from the fixed slots while any is free, each to one caller
// at a time, then from the pool; released slots are handed out again.
func TestBlockSlots(t *testing.T) {
	type claim struct {
		b    *sumsBlock
		slot int
	}
	var claims []claim
	seen := map[*sumsBlock]bool{}
	for range len(blockSlots) + 2 {
		b, slot := getBlock()
		if seen[b] {
			t.Fatalf("block %p handed out twice", b)
		}
		seen[b] = true
		claims = append(claims, claim{b, slot})
	}
	for i, c := range claims {
		if want := i < len(blockSlots); (c.slot >= 0) != want || (want && c.b != &blockSlots[c.slot]) {
			t.Errorf("claim %d: slot %d", i, c.slot)
		}
	}
	for _, c := range claims {
		putBlock(c.b, c.slot)
	}
	if n := slotsInUse.Load(); n != 0 {
		t.Errorf("slots still in use after release: %b", n)
	}
	if _, slot := getBlock(); slot != 0 {
		t.Errorf("a released slot was not reused: got %d", slot)
	}
	putBlock(&blockSlots[0], 0)
}
