"""Costa et al.'s training protocol as written (Sec. III), one network at a time, across sessions and machines.

    python scripts/costa_protocol.py train  --arch avg-60 [--epochs 1200] [--hours H]
    python scripts/costa_protocol.py report --arch avg-60 [--descent 500]

``train`` trains one Table-I network with ``protocol="paper"`` (raw densities in, T out, Adam 1e-4, batches of
100, 150,000 densities split 81/9/10, the best network on the validation set kept) and writes its state every
five minutes to ``results/paper/costa-protocol/<arch>.npz`` (weights, the best weights, Adam's moments, the
generator's state and the loss histories; no pickle; tens of KB). The file is committed: run the same command on
another machine, days later, and training continues from it (the 150,000 densities regenerate from their seed in
~8 minutes when the cache is empty). ``--hours`` stops cleanly after that much wall time (a Ctrl-C does the same,
losing at most five minutes); the state never claims epochs that did not run.

``report`` reads that state (never trains), evaluates the kept network - R^2 on the 15,000 test densities, the
paper's gradient descent (eta 1e-3, 10,000 steps) on the first ``--descent`` test potentials - and writes
``results/paper/costa-protocol/<arch>.json``: epochs done of requested, hours, best epoch, losses and the metrics.

Run through make, so that the CPU pins of the Makefile hold (the state's fingerprint includes the data):
``make costa-protocol ARCH=avg-60 HOURS=2`` / ``make costa-protocol-report ARCH=avg-60``.
"""
from __future__ import annotations

import argparse
import datetime
import json
import time
from pathlib import Path

import numpy as np

from mlphys import cnn, dft, nn, registry
from mlphys.claims import costa

FOLDER = registry.results_dir() / "paper" / "costa-protocol"
EPOCHS = 1200


def _arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("train", "report"))
    parser.add_argument("--arch", choices=tuple(cnn.ARCHITECTURES), default="avg-60")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="epochs requested in all (the paper: 1,200)")
    parser.add_argument("--hours", type=float, default=None, help="stop after this much wall time (train)")
    parser.add_argument("--descent", type=int, default=500, help="descent instances (report; the paper: 500)")
    parser.add_argument("--n-data", type=int, default=150_000, help="densities in all, split 81/9/10 (the paper: "
                        "150,000; fewer only to try the script out)")
    parser.add_argument("--folder", type=Path, default=FOLDER)
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.descent < 1 or args.n_data < 10 or args.hours is not None and not args.hours > 0:
        parser.error("--epochs and --descent must be positive integers, --n-data at least 10, --hours a positive number")
    return args


def _train(arch: str, train_set, val_set, *, epochs: int, path: Path, progress: bool = True):
    s = costa.settings("paper")
    seed = costa._seed(2022) + 1 + costa.ARCHITECTURES.index(arch)      # the seed reproduce --scale paper uses
    return dft.train_functional(train_set, arch, epochs=epochs, rng=seed, lr=s["lr"], batch_size=s["batch_size"],
                                validation=val_set, protocol="paper", checkpoint=path, checkpoint_seconds=300,
                                progress=progress)


def _epochs_done(path: Path) -> int:
    if not path.is_file():
        return 0
    with np.load(path, allow_pickle=False) as f:
        return int(f["loss"].size)


def main(argv=None) -> int:
    args = _arguments(argv)
    args.folder.mkdir(parents=True, exist_ok=True)
    path = args.folder / f"{args.arch}.npz"
    n_descent = min(args.descent, costa._test_part(args.n_data))       # sizes consistent with a smaller trial set
    sizes = dict(n_data=args.n_data, n_descent=n_descent,
                 n_curvature=min(n_descent, costa.settings("paper")["n_curvature"]))
    train_set, val_set, test_set = costa.data("paper", progress=True, **sizes)
    if args.command == "train":
        deadline = None if args.hours is None else time.time() + 3600 * args.hours
        done = _epochs_done(path)
        with nn.interrupts_propagate():         # Ctrl-C: the last state written stays; nothing claims more
            while done < args.epochs and (deadline is None or time.time() < deadline):
                # one chunk of epochs per call, so that the wall-time budget is checked between chunks
                done = min(args.epochs, done + 5)
                result = _train(args.arch, train_set, val_set, epochs=done, path=path)
                print(f"{args.arch}: epoch {result.epochs} of {args.epochs}, loss {result.loss[-1]:.3g}, "
                      f"validation {result.val_loss[-1]:.3g} (best at epoch {result.best_epoch})", flush=True)
        return 0
    done = _epochs_done(path)
    if done == 0:
        raise SystemExit(f"no training state at {path}: run the train command first")
    if args.descent > len(test_set):
        raise SystemExit(f"--descent {args.descent} exceeds the {len(test_set)} test densities")
    result = _train(args.arch, train_set, val_set, epochs=done, path=path, progress=False)
    if path.with_name(path.name + ".rejected").exists():     # the state did not fit: report nothing, keep it aside
        raise SystemExit(f"the state in {path} is not of this data and protocol; it was moved to *.rejected")
    r2 = costa.r2_table({args.arch: result}, test_set)[args.arch]
    sub = test_set.subset(slice(0, args.descent))
    gs = sub.ground_states
    s = costa.settings("paper")
    run = dft.descend(result.functional, sub.potentials, steps=s["steps"], eta=s["eta"], exact=gs,
                      record_every=s["steps"] // 50, progress=True)
    summary = costa.descent_summary({args.arch: run}, costa.model_errors({args.arch: result}, test_set, "paper",
                                                                         **sizes))[args.arch]
    record = dict(architecture=args.arch, protocol="paper (Sec. III)", n_data=args.n_data, epochs_done=result.epochs,
                  epochs_requested=args.epochs, finished=result.epochs >= args.epochs, best_epoch=result.best_epoch,
                  training_hours=round(result.seconds / 3600, 3), n_train=len(train_set), n_validation=len(val_set),
                  n_test=len(test_set), loss=result.loss[-1], best_validation_loss=min(result.val_loss),
                  r2_test=r2, paper_r2=costa.PAPER_R2[args.arch], descent=dict(instances=args.descent, **summary),
                  commit=registry.git_commit(),
                  date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    (args.folder / f"{args.arch}.json").write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
