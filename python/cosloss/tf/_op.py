"""One TensorFlow op whose value and gradient come from cosloss's numpy API."""

import numpy as np
import tensorflow as tf

import cosloss


def numpy_op(fn, inputs, value_dtype, value_shape, name, tensor_kwargs=None, **kwargs):
    """fn(*inputs, **tensor_kwargs, **kwargs) as a TensorFlow op with cosloss's gradient.

    inputs are tensors that get gradients from cosloss.value_and_grad(fn, ...);
    tensor_kwargs are tensors that get none (weights, which TensorFlow's
    div_no_nan counts give none either); kwargs are Python values. value_shape
    is the static shape TensorFlow cannot infer through numpy_function.
    """
    tensor_kwargs = tensor_kwargs or {}
    names = list(tensor_kwargs)
    differentiable = len(inputs)

    def call_args(arrays):
        named = dict(zip(names, arrays[differentiable:]))
        return arrays[:differentiable], {**named, **kwargs}

    def forward(*arrays):
        args, named = call_args(arrays)
        return np.asarray(fn(*args, **named), dtype=value_dtype.as_numpy_dtype)

    def backward(*arrays):
        *arrays, upstream = arrays
        args, named = call_args(arrays)
        _, grads = cosloss.value_and_grad(fn, *args, upstream=upstream, **named)
        return [np.asarray(g, dtype=a.dtype) for g, a in zip(grads, args)]

    @tf.custom_gradient
    def op(*xs):
        value = tf.numpy_function(forward, list(xs), value_dtype, stateful=False, name=name)
        value.set_shape(value_shape)

        def grad(upstream):
            grads = tf.numpy_function(backward, list(xs) + [upstream],
                                      [x.dtype for x in xs[:differentiable]], stateful=False,
                                      name=f"{name}_grad")
            for g, x in zip(grads, xs):
                g.set_shape(x.shape)
            return list(grads) + [None] * (len(xs) - differentiable)

        return value, grad

    return op(*inputs, *tensor_kwargs.values())


def reduced_shape(shape: tf.TensorShape, axis: int, keepdims: bool = False) -> tf.TensorShape:
    """shape with axis removed (or set to 1); unknown when the rank is."""
    if shape.rank is None:
        return tf.TensorShape(None)
    dims = list(shape)
    axis = axis % len(dims)
    if keepdims:
        dims[axis] = 1
    else:
        del dims[axis]
    return tf.TensorShape(dims)
