"""``sklearn``: scikit-learn's ``MLPClassifier`` trained by full-batch gradient descent, a peer
for the ``fit`` op.

Configured to be the lecture's algorithm: one hidden layer of n_h tanh units, a logistic output
with the cross-entropy loss, ``solver="sgd"`` with ``batch_size=m`` (every step sees all m
examples), ``momentum=0``, ``alpha=0`` (no L2 penalty), a constant learning rate, no shuffling and
no early stop. It starts from the given parameters (written into ``coefs_``/``intercepts_``).
"""

from __future__ import annotations

import warnings

import numpy as np

from . import FIT_LR


def make_call(op, P, X, Y, hidden, output, threads=0, *, lr=FIT_LR, steps=1):
    """A zero-argument callable running ``steps`` full-batch steps; returns (params, costs)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    n_h, m = P["W1"].shape[0], X.shape[1]
    Xs, ys = np.ascontiguousarray(X.T), Y[0].astype(np.int64)

    def run():
        clf = MLPClassifier(hidden_layer_sizes=(n_h,), activation="tanh", solver="sgd",
                            batch_size=m, learning_rate="constant", learning_rate_init=lr,
                            momentum=0.0, nesterovs_momentum=False, alpha=0.0, shuffle=False,
                            max_iter=steps, tol=0.0, n_iter_no_change=steps + 1,
                            warm_start=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", UserWarning)  # batch_size > 2 on the 2-example call
            two = [int(np.argmin(ys)), int(np.argmax(ys))]  # one example of each class
            clf.partial_fit(Xs[two], ys[two], classes=np.array([0, 1]))  # allocates the layers
            clf.coefs_ = [P["W1"].T.copy(), P["W2"].T.copy()]
            clf.intercepts_ = [P["b1"][:, 0].copy(), P["b2"][:, 0].copy()]
            clf.loss_curve_, clf.n_iter_, clf.t_ = [], 0, 0
            clf.fit(Xs, ys)
        W1, W2 = (c.T.astype(X.dtype) for c in clf.coefs_)
        b1, b2 = (b[:, None].astype(X.dtype) for b in clf.intercepts_)
        return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}, np.asarray(clf.loss_curve_)
    return run


def version():
    import sklearn
    return sklearn.__version__
