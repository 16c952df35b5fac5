"""`python -m cosloss`: a short demo of the API and of the TF 1.15 sign."""

import numpy as np

import cosloss

y_true = np.array([[0.0, 1.0], [1.0, 1.0], [3.0, 4.0]], dtype=np.float32)
y_pred = np.array([[1.0, 0.0], [1.0, 1.0], [4.0, 3.0]], dtype=np.float32)

print("cosloss", cosloss.__version__)
print("y_true =", y_true.tolist())
print("y_pred =", y_pred.tolist())
print("nn.l2_normalize(y_true, axis=1)        =", cosloss.nn.l2_normalize(y_true, axis=1).tolist())
print("keras.losses.cosine_similarity (TF 2)  =", cosloss.keras.losses.cosine_similarity(y_true, y_pred))
print("tf115.keras.losses.cosine_similarity   =", cosloss.tf115.keras.losses.cosine_similarity(y_true, y_pred))
print("keras.losses.CosineSimilarity()        =", cosloss.keras.losses.CosineSimilarity()(y_true, y_pred))
print("keras.metrics.CosineSimilarity()       =", cosloss.keras.metrics.CosineSimilarity()(y_true, y_pred))
unit_true = cosloss.nn.l2_normalize(y_true, axis=1)
unit_pred = cosloss.nn.l2_normalize(y_pred, axis=1)
print("losses.cosine_distance(unit, axis=1)   =", cosloss.losses.cosine_distance(unit_true, unit_pred, axis=1))
print("seed forms -cos, 1-cos, (1-cos)^2      =",
      cosloss.cosine_similarity_loss(y_true, y_pred),
      cosloss.cosine_similarity_loss_v2(y_true, y_pred),
      cosloss.cosine_similarity_loss_v3(y_true, y_pred))
