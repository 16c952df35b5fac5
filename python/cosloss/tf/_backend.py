"""Which implementation a cosloss.tf op is built with: "tf" (the default) or "go".

"tf" builds the op from TensorFlow primitives with cosloss's numbers: it
serializes, compiles under XLA and runs on any device, as TensorFlow's own
ops do. "go" calls the Go core through tf.numpy_function: faster on a CPU,
but only in the process that built the graph.
"""

from __future__ import annotations

import os

from cosloss._core.arrays import describe

__all__ = ["BACKENDS", "set_backend", "get_backend", "resolve"]

BACKENDS = ("tf", "go")

# The environment variable sets the process's starting default, so a test
# suite or a script can be run under either backend without editing it.
_ENV = "COSLOSS_TF_BACKEND"


def _check(backend: object, name: str) -> str:
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(f"{name} must be one of {BACKENDS}, got {describe(backend)}")
    return backend


_default = _check(os.environ.get(_ENV, "tf"), f"the environment variable {_ENV}")


def set_backend(backend: str) -> str:
    """Sets the backend of the cosloss.tf ops built from now on; returns the previous one.

    Ops already in a graph keep the backend they were built with. A call's
    own `backend=` argument overrides this default.

    Args:
        backend: "tf" (TensorFlow primitives: serializable, XLA, any device;
            the default) or "go" (the Go core through tf.numpy_function:
            in-process CPU work).

    Returns:
        The backend that was the default before the call.

    Raises:
        ValueError: `backend` is not "tf" or "go".

    Example:
        >>> previous = cosloss.tf.set_backend("go")
        >>> cosloss.tf.get_backend()
        'go'
        >>> cosloss.tf.set_backend(previous)
        'go'
    """
    global _default
    previous, _default = _default, _check(backend, "backend")
    return previous


def get_backend() -> str:
    """The backend new cosloss.tf ops are built with when their call names none.

    Returns:
        "tf" or "go" (initially the environment variable COSLOSS_TF_BACKEND,
        else "tf").

    Example:
        >>> previous = cosloss.tf.set_backend("tf")
        >>> cosloss.tf.get_backend()
        'tf'
        >>> _ = cosloss.tf.set_backend(previous)
    """
    return _default


def resolve(backend: str | None) -> str:
    """A call's backend: its own argument, else the default."""
    return _default if backend is None else _check(backend, "backend")
