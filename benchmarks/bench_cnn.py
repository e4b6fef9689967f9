"""Time per training epoch of the five Table I networks (Chapter 10): mlphys.cnn against PyTorch.

    python benchmarks/bench_cnn.py [--samples N] [--batch N] [--repeats N] [--no-install]

Both sides train the same network - the same weights, checked to give the same T[n] and the same
parameter gradients to ~1e-12 before timing - on the same speckle ground-state densities, with Adam on
the mean squared error (Eq. 4) in mini-batches of ``--batch`` (the paper's 100), in float64. The
epochs alternate (mlphys, PyTorch, mlphys, ...) so that both see the same machine state, and the
medians are compared: "ratio" is mlphys time / PyTorch time (below 1: mlphys is faster). The issue's
targets: <= 1.0 for the average-channel CNNs, <= 1.5 for the standard CNNs. PyTorch in float32 (its
default) is timed as well, for information.

PyTorch is installed on demand into its own folder (see benchmarks/peers.py), never a dependency of
mlphys; with --no-install the script says how to install it and times mlphys alone.
A benchmark, not a test: the numbers depend on the machine.
"""
import argparse
import time

import numpy as np
import peers
from threadpoolctl import threadpool_info

from mlphys import cnn, nn, speckle


def torch_twin(torch, net, dtype):
    """A torch.nn.Module computing the same function as ``net`` (an mlphys CNN), with its weights."""
    F = torch.nn.functional

    class Twin(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.convs = torch.nn.ModuleList()
            for b in range(len(net.pools)):
                W, bias = net.params[2 * b], net.params[2 * b + 1]   # W: (k, C_in, C_out)
                conv = torch.nn.Conv1d(W.shape[1], W.shape[2], net.kernel, padding=net.kernel // 2,
                                       padding_mode="circular" if net.padding == "periodic" else "zeros")
                conv.weight.data = torch.tensor(W.transpose(2, 1, 0).copy(), dtype=dtype)
                conv.bias.data = torch.tensor(bias, dtype=dtype)
                self.convs.append(conv)
            c_last = 1 if net.average else net.channels
            # mlphys flattens (grid, channels) row-major, torch (channels, grid): permute the dense weights.
            w = net.params[-2].reshape(net.sizes[-1], c_last).T.reshape(1, -1)
            self.dense = torch.nn.Linear(w.shape[1], 1)
            self.dense.weight.data = torch.tensor(w.copy(), dtype=dtype)
            self.dense.bias.data = torch.tensor(np.reshape(net.params[-1], 1), dtype=dtype)

        def forward(self, x):
            h = x[:, None, :]
            for conv, s in zip(self.convs, net.pools):
                h = F.relu(conv(h)) if net.activation == "relu" else F.softplus(conv(h))
                h = F.avg_pool1d(h, s)
                if net.average:
                    h = h.mean(dim=1, keepdim=True)
            return self.dense(h.flatten(1))[:, 0]

    return Twin()


def check_twin(torch, net, model, X, Y):
    """Largest relative difference of T[n] and of the parameter gradients between the two sides."""
    x, y = torch.tensor(X), torch.tensor(Y)
    out = model(x)
    loss = ((out - y) ** 2).mean()
    loss.backward()
    _, grads = net.backward(X, Y)
    theirs = []
    for conv in model.convs:
        theirs += [conv.weight.grad.numpy().transpose(2, 1, 0), conv.bias.grad.numpy()]
    c_last = 1 if net.average else net.channels
    theirs += [model.dense.weight.grad.numpy().reshape(c_last, net.sizes[-1]).T.ravel(),
               model.dense.bias.grad.numpy()[0]]
    model.zero_grad()
    d_out = np.max(np.abs(out.detach().numpy() - net.predict(X))) / np.max(np.abs(Y))
    d_grad = max(np.max(np.abs(g - t)) / np.max(np.abs(g)) for g, t in zip(grads, theirs))
    return d_out, d_grad


def epoch_mlphys(net, X, Y, batch, rng):
    return nn.train(net, X, Y, epochs=1, batch_size=batch, optimizer=nn.Adam(1e-4), rng=rng).seconds


def epoch_torch(torch, model, x, y, batch, rng):
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    order = torch.from_numpy(rng.permutation(len(x)))
    start = time.perf_counter()
    for i in range(0, len(x), batch):
        idx = order[i:i + batch]
        opt.zero_grad()
        loss = ((model(x[idx]) - y[idx]) ** 2).mean()
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=1000, help="densities per epoch")
    parser.add_argument("--batch", type=int, default=100, help="mini-batch size (the paper: 100)")
    parser.add_argument("--repeats", type=int, default=5, help="epochs per side and network (medians)")
    parser.add_argument("--no-install", action="store_true", help="do not install PyTorch if it is missing")
    parser.add_argument("--networks", nargs="+", default=list(cnn.ARCHITECTURES), choices=list(cnn.ARCHITECTURES),
                        metavar="NAME", help=f"which Table I networks (default all: {', '.join(cnn.ARCHITECTURES)})")
    args = parser.parse_args()
    torch = peers.require("torch", ["torch==2.13.0"], install=not args.no_install)

    data = speckle.dataset(args.samples, rng=0, progress=False)
    X, Y = data.densities, (data.kinetic - data.kinetic.mean()) / data.kinetic.std()
    blas = ", ".join(f"{i['internal_api']} {i['num_threads']} threads" for i in threadpool_info()
                     if i["user_api"] == "blas")
    print(f"{args.samples} speckle densities on {X.shape[1]} points, batch {args.batch}, Adam, float64; "
          f"medians of {args.repeats} interleaved epochs")
    print(f"numpy {np.__version__} ({blas})"
          + (f"; torch {torch.__version__} ({torch.get_num_threads()} threads)" if torch else ""))
    header = f"{'network':14s} {'params':>7s} {'mlphys s':>9s}"
    if torch:
        header += f" {'torch s':>9s} {'ratio':>6s} {'target':>6s} {'torch f32':>9s} {'|dT|,|dgrad|':>17s}"
    print(header)
    for name in args.networks:
        net = cnn.CNN.from_architecture(name, X.shape[1], rng=1)
        rng_a, rng_b = np.random.default_rng(2), np.random.default_rng(2)
        ours, theirs, theirs32 = [], [], []
        if torch:
            model = torch_twin(torch, net, torch.float64)
            check = check_twin(torch, net, model, X[:50], Y[:50])
            model32 = torch_twin(torch, net, torch.float32)
            x, y = torch.tensor(X), torch.tensor(Y)
            x32, y32 = x.float(), y.float()
        for _ in range(args.repeats):
            ours.append(epoch_mlphys(net, X, Y, args.batch, rng_a))
            if torch:
                theirs.append(epoch_torch(torch, model, x, y, args.batch, rng_b))
                theirs32.append(epoch_torch(torch, model32, x32, y32, args.batch, np.random.default_rng(2)))
        line = f"{name:14s} {net.n_params:7d} {np.median(ours):9.4f}"
        if torch:
            ratio = np.median(ours) / np.median(theirs)
            target = 1.0 if net.average else 1.5
            line += (f" {np.median(theirs):9.4f} {ratio:6.2f} {'<=' + str(target):>6s} {np.median(theirs32):9.4f}"
                     f"  {check[0]:.1e},{check[1]:.1e}")
        print(line, flush=True)


if __name__ == "__main__":
    main()
