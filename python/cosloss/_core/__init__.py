"""The Python core: what every loss needs to hand numpy arrays to Go.

    arrays  conversion and argument checks (TensorFlow's typing rules,
            names in every error), layouts Go can read, `out=` handling
    ops     array operations over the Go core: broadcast views, float16
            widening, result shapes
    go      the compiled extension itself: statuses, fork safety, buffer
            addresses, the worker and kernel-set settings

Nothing here knows a framework's semantics; the loss definitions in
cosloss._losses do, and the public modules are faces over those.
"""

from cosloss._core.go import kernel, kernels, set_kernel, set_workers, workers

__all__ = ["kernel", "kernels", "set_kernel", "set_workers", "workers"]
