"""Time per epoch on the digits: hand-written back-propagation vs autograd vs scikit-learn.

    python benchmarks/bench_backprop.py [--epochs N]

All three train the same 64-50-10 network (sigmoid hidden layer, softmax output,
cross-entropy, Adam, mini-batches of 32) for the same number of epochs in one
run, and the script prints seconds per epoch and ratios to the hand-written
back-propagation. It is a benchmark, not a test: numbers vary with the machine.
"""
import argparse
import time

import autograd
import autograd.numpy as anp
import numpy as np

from mlphys import data, nn
from mlphys.claims import backprop


def epoch_time_backprop(Xtr, Ytr, epochs):
    net = nn.Network([64, 50, 10], activation="sigmoid", output="softmax", loss="cross_entropy", rng=1)
    history = nn.train(net, Xtr, Ytr, epochs=epochs, batch_size=32, optimizer=nn.Adam(1e-2), rng=1)
    return history.seconds / epochs


def epoch_time_autograd(Xtr, Ytr, epochs):
    net = nn.Network([64, 50, 10], activation="sigmoid", output="softmax", loss="cross_entropy", rng=1)
    grad = autograd.grad(lambda p, X, Y: net.loss_from_params(p, X, Y, xp=anp))
    opt, rng = nn.Adam(1e-2), np.random.default_rng(1)
    start = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(len(Xtr))
        for i in range(0, len(Xtr), 32):
            batch = order[i:i + 32]
            opt.step(net.params, grad(net.params, Xtr[batch], Ytr[batch]))
    return (time.perf_counter() - start) / epochs


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    Xtr, Xte, ytr, yte = data.load_digits_split(rng=0)
    Ytr = nn.one_hot(ytr, 10)
    t_bp = epoch_time_backprop(Xtr, Ytr, args.epochs)
    t_ag = epoch_time_autograd(Xtr, Ytr, args.epochs)
    _, t_sk, _ = backprop.digits_sklearn()
    t_sk /= backprop.digits_epochs()
    print(f"{len(Xtr)} training images, 64-50-10 network, batch 32, {args.epochs} epochs")
    print(f"{'method':32s} {'s/epoch':>9s} {'ratio':>7s}")
    for name, t in [("hand-written back-propagation", t_bp), ("autograd (same forward code)", t_ag),
                    ("scikit-learn MLPClassifier", t_sk)]:
        print(f"{name:32s} {t:9.4f} {t / t_bp:7.2f}")


if __name__ == "__main__":
    main()
