"""Train a linear embedding of scikit-learn's digits with an in-batch contrastive loss, then search it.

    python examples/embeddings.py

Needs numpy, scikit-learn (for its bundled `load_digits`: 1797 8×8 images of the
digits 0-9, no download) and cosloss. It runs in a few seconds:

1. a linear map W (64 pixels -> 16 dimensions) is trained with
   `cosloss.contrastive.multiple_negatives_ranking_loss` (sentence-transformers'
   MultipleNegativesRankingLoss: cross-entropy of 20·cos(anchor_i, positive_j) over
   the batch's positives, the target its own), on anchor/positive pairs of the same
   class, one pair per class in each batch so that no in-batch negative shares the
   anchor's class. `cosloss.value_and_grad` gives the gradients with respect to the
   embedded anchors and positives; the chain rule through `x @ W` and Adam are
   plain numpy;
2. the held-out digits are searched against the training set with
   `cosloss.pairwise.top_k` (exact cosine top-k): recall@1 (the nearest training
   digit has the query's class) and the majority vote of the 5 nearest, before
   and after training, beside the raw 64 pixels as a reference;
3. `cosloss.pairwise.cosine_similarity` gives the mean cosine between held-out
   digits of the same class and of different classes.
"""

import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import cosloss

DIM, STEPS, PAIRS_PER_CLASS, K = 16, 500, 4, 5

digits = load_digits()
x = (digits.data / 16.0).astype(np.float32)               # 1797 × 64, pixels in [0, 1]
x -= x.mean(axis=0)                                       # centred: raw pixels are all positive
x_train, x_test, y_train, y_test = train_test_split(
    x, digits.target, test_size=0.25, stratify=digits.target, random_state=0)
by_class = [np.flatnonzero(y_train == c) for c in range(10)]


def embed(w, x):
    return x @ w


def retrieval(w):
    """recall@1 and the accuracy of a majority vote over the K nearest training digits."""
    _, idx = cosloss.pairwise.top_k(embed(w, x_test), embed(w, x_train), k=K)
    neighbours = y_train[idx]                             # (n_test, K) labels, nearest first
    recall1 = np.mean(neighbours[:, 0] == y_test)
    votes = np.array([np.bincount(row, minlength=10).argmax() for row in neighbours])
    return recall1, np.mean(votes == y_test)


def class_cosines(w):
    """Mean cosine between held-out digits of the same class, and of different classes."""
    cos = cosloss.pairwise.cosine_similarity(embed(w, x_test))   # x_test against itself
    same = y_test[:, None] == y_test[None, :]
    np.fill_diagonal(same, False)
    other = y_test[:, None] != y_test[None, :]
    return cos[same].mean(), cos[other].mean()


def batch(rng):
    """PAIRS_PER_CLASS independent blocks of 10 pairs: an anchor and a positive of one class each."""
    a, p = [], []
    for _ in range(PAIRS_PER_CLASS):
        for members in by_class:
            i, j = rng.choice(members, size=2, replace=False)
            a.append(i)
            p.append(j)
    return np.array(a), np.array(p)


def train(w, steps=STEPS, lr=0.01, seed=1):
    """Adam on W; returns W and the loss of each step."""
    rng = np.random.default_rng(seed)
    m, v = np.zeros_like(w), np.zeros_like(w)
    b1, b2 = 0.9, 0.999
    losses = []
    for t in range(1, steps + 1):
        ia, ip = batch(rng)
        loss = 0.0
        grad = np.zeros_like(w)
        # One contrastive batch per block of 10 pairs: its in-batch negatives are the
        # other nine classes' positives, never a digit of the anchor's own class.
        for block in np.split(np.arange(len(ia)), PAIRS_PER_CLASS):
            xa, xp = x_train[ia[block]], x_train[ip[block]]
            value, (d_anchor, d_positive) = cosloss.value_and_grad(
                cosloss.contrastive.multiple_negatives_ranking_loss, embed(w, xa), embed(w, xp))
            loss += float(value) / PAIRS_PER_CLASS
            grad += (xa.T @ d_anchor + xp.T @ d_positive) / PAIRS_PER_CLASS   # chain rule through x @ W
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * grad**2
        w = w - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + 1e-8)
        losses.append(loss)
    return w, np.array(losses)


def main():
    w0 = np.random.default_rng(0).standard_normal((64, DIM)).astype(np.float32) / 8.0
    start = time.perf_counter()
    w, losses = train(w0)
    seconds = time.perf_counter() - start

    print(f"load_digits: {len(x_train)} training and {len(x_test)} held-out digits, "
          f"a linear embedding 64 -> {DIM}")
    print(f"multiple_negatives_ranking_loss: {losses[:10].mean():.3f} over the first 10 steps, "
          f"{losses[-10:].mean():.3f} over the last 10 ({STEPS} Adam steps, {seconds:.1f} s)")
    raw = np.eye(64, dtype=np.float32)                    # the pixels themselves, 64-d
    for name, weights in (("raw pixels (64-d)", raw), ("random W (before)", w0),
                          ("trained W (after)", w)):
        recall1, vote = retrieval(weights)
        same, other = class_cosines(weights)
        print(f"{name:18s} recall@1 {recall1:.3f}, {K}-NN majority vote {vote:.3f}; "
              f"mean cosine same class {same:.2f}, other classes {other:.2f}")


if __name__ == "__main__":
    main()
