"""The loss definitions: one object per loss, each framework's flavour as data.

    base        what a loss object is; face(), value_and_grad's dispatch
    flavours    Norm (epsilon rules) and KerasFlavour values: TF >= 2.0, TF 1.15, PyTorch
    reductions  weights, broadcasting and reductions (TF1's and Keras's) and their gradients
    cosine      form(cos(x, y)) along an axis: Keras's loss function, the seed forms
    keras       Keras's Reduction and loss object (LossBase)
    normalize   tf.nn.l2_normalize
    tf1         TF1's Reduction, compute_weighted_loss, cosine_distance
    torch       PyTorch's F.cosine_similarity and CosineEmbeddingLoss

The public modules (cosloss.nn, .losses, .keras, .tf115, .torch, .seed,
.tf) are faces: documented signatures that call these objects.
"""
