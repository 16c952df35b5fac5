package cosloss

import (
	"fmt"
	"math"
	"unsafe"
)

// Float is the set of element types the kernels accept.
type Float interface {
	~float32 | ~float64
}

// isFloat32 reports whether T is float32 or a type defined on it.
func isFloat32[T Float]() bool { return unsafe.Sizeof(T(0)) == 4 }

// Layout is the shape of an array seen as Outer × Len × Inner, where Len is
// the axis being reduced. A C-contiguous array of shape (d0, …, dk) reduced
// along axis a has Outer = d0·…·d(a-1), Len = da and Inner = d(a+1)·…·dk.
type Layout struct {
	Outer, Len, Inner int
}

// Slices is the number of independent reductions: one per (outer, inner) pair.
func (l Layout) Slices() int { return l.Outer * l.Inner }

// Size is the number of elements.
func (l Layout) Size() int { return l.Outer * l.Len * l.Inner }

// View is a strided window on Data with logical shape Layout. Element
// (o, k, i) lives at Data[o*OuterStride + k*LenStride + i*InnerStride].
// Strides are in elements and must not be negative; a zero stride repeats
// (broadcasts) the data along that dimension.
type View[T Float] struct {
	Data []T
	Layout
	OuterStride, LenStride, InnerStride int
}

// Contiguous views data as a C-ordered array with layout l.
func Contiguous[T Float](data []T, l Layout) View[T] {
	return View[T]{Data: data, Layout: l, OuterStride: l.Len * l.Inner, LenStride: l.Inner, InnerStride: 1}
}

// Span is the number of elements from the first to one past the last element
// the view can touch; Data must be at least that long. It is 0 for an empty
// view, and for one whose reach overflows int (Check reports those).
func (v View[T]) Span() int {
	span, _ := v.reach()
	return span
}

// reach is Span, computed so that no step overflows int, and false if the
// result would.
func (v View[T]) reach() (int, bool) {
	if v.Size() == 0 {
		return 0, true
	}
	span, ok := 1, true
	for _, d := range [3][2]int{{v.Outer, v.OuterStride}, {v.Len, v.LenStride}, {v.Inner, v.InnerStride}} {
		if span, ok = mulAdd(d[0]-1, d[1], span); !ok {
			return 0, false
		}
	}
	return span, true
}

// Check reports a malformed view: negative sizes or strides, a layout whose
// element count or reach overflows int, or Data shorter than the elements
// the view addresses. name is used in the message.
func (v View[T]) Check(name string) error {
	if v.Outer < 0 || v.Len < 0 || v.Inner < 0 {
		return fmt.Errorf("%s: negative layout %+v", name, v.Layout)
	}
	if v.OuterStride < 0 || v.LenStride < 0 || v.InnerStride < 0 {
		return fmt.Errorf("%s: negative stride (%d, %d, %d)", name, v.OuterStride, v.LenStride, v.InnerStride)
	}
	if !fitsSize(v.Layout) {
		return fmt.Errorf("%s: layout %+v has more elements than an int counts", name, v.Layout)
	}
	span, ok := v.reach()
	if !ok {
		return fmt.Errorf("%s: strides (%d, %d, %d) reach past what an int addresses",
			name, v.OuterStride, v.LenStride, v.InnerStride)
	}
	if span > len(v.Data) {
		return fmt.Errorf("%s: view addresses %d elements but data has %d", name, span, len(v.Data))
	}
	return nil
}

// fitsSize reports whether neither l.Size() nor l.Slices() overflows int
// (sizes are not negative).
func fitsSize(l Layout) bool {
	slices, ok := mulAdd(l.Outer, l.Inner, 0)
	if !ok {
		return false
	}
	_, ok = mulAdd(slices, l.Len, 0)
	return ok
}

// mulAdd returns a·b + c for non-negative a, b, c, and false if it overflows int.
func mulAdd(a, b, c int) (int, bool) {
	if a != 0 && b > (math.MaxInt-c)/a {
		return 0, false
	}
	return a*b + c, true
}

// base is the offset of element (o, 0, i).
func (v View[T]) base(o, i int) int { return o*v.OuterStride + i*v.InnerStride }

// unitRows reports whether each slice is a contiguous run of Len elements.
func (v View[T]) unitRows() bool { return v.LenStride == 1 || v.Len <= 1 }

// checkPair checks the two inputs of a pairwise call and the length of its
// output, one element per slice.
func checkPair[T Float](x, y View[T], nout int) error {
	if err := x.Check("x"); err != nil {
		return err
	}
	if err := y.Check("y"); err != nil {
		return err
	}
	if x.Layout != y.Layout {
		return fmt.Errorf("y: layout %+v differs from x's %+v", y.Layout, x.Layout)
	}
	if nout != x.Slices() {
		return fmt.Errorf("out: want %d elements, got %d", x.Slices(), nout)
	}
	return nil
}
