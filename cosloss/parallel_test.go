package cosloss

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// panicky panics in whichever piece holds task 5.
type panicky struct{ ran []bool }

func (j panicky) run(lo, hi int) {
	for t := lo; t < hi; t++ {
		if t == 5 {
			var s []int
			_ = s[t]
		}
		j.ran[t] = true
	}
}

// A panic in a worker goroutine reaches the caller, where the binding's
// recover turns it into an error; uncaught there it would abort Python.
func TestWorkerPanicReachesCaller(t *testing.T) {
	defer SetWorkers(Workers())
	SetWorkers(4)
	ran := make([]bool, 8)
	var got any
	func() {
		defer func() { got = recover() }()
		splitRange(len(ran), 8*parallelMinWork, panicky{ran}) // a piece per task
	}()
	wp, ok := got.(*workerPanic)
	if !ok {
		t.Fatalf("recovered %T %v, want a *workerPanic", got, got)
	}
	if !strings.Contains(wp.Error(), "index out of range") {
		t.Errorf("worker panic message %q", wp.Error())
	}
	if !ran[0] || !ran[7] {
		t.Errorf("the other workers did not finish: %v", ran)
	}
}

func TestSetWorkersClamps(t *testing.T) {
	defer SetWorkers(Workers())
	for _, c := range []struct{ set, want int }{{-3, 1}, {0, 1}, {3, 3}, {1 << 40, MaxWorkers}, {math.MaxInt, MaxWorkers}} {
		if SetWorkers(c.set); Workers() != c.want {
			t.Errorf("SetWorkers(%d): Workers() = %d, want %d", c.set, Workers(), c.want)
		}
	}
}

// However many workers are asked for, no piece is smaller than half the
// splitting threshold, and the pieces cover the range once.
func TestSplitRangePieces(t *testing.T) {
	defer SetWorkers(Workers())
	SetWorkers(MaxWorkers)
	n := 1000
	for _, work := range []int{parallelMinWork - 1, parallelMinWork, 10 * parallelMinWork} {
		pieces := make(chan [2]int, MaxWorkers)
		splitRange(n, work, recordPieces{pieces})
		close(pieces)
		var got [][2]int
		for p := range pieces {
			got = append(got, p)
		}
		want := 1
		if work >= parallelMinWork {
			want = work / (parallelMinWork / 2)
		}
		if len(got) != want {
			t.Errorf("work %d: %d pieces, want %d", work, len(got), want)
		}
		slices.SortFunc(got, func(a, b [2]int) int { return a[0] - b[0] })
		next := 0
		for _, p := range got {
			if p[0] != next {
				t.Fatalf("work %d: pieces %v do not tile [0, %d)", work, got, n)
			}
			next = p[1]
		}
		if next != n {
			t.Errorf("work %d: pieces end at %d, want %d", work, next, n)
		}
	}
}

type recordPieces struct{ pieces chan [2]int }

func (r recordPieces) run(lo, hi int) { r.pieces <- [2]int{lo, hi} }
