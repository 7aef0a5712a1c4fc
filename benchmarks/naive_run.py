"""What a user would do instead of initlab: one process per configuration, the lesson's loop.

    python benchmarks/naive_run.py SEED DEPTH WIDTH ACTIVATION OPTIMIZER LR STEPS INIT

Imports torch and scikit-learn, makes the data, trains one model with the lesson's one-model
loop (``initlab.engine.train.train_one``, the same arithmetic as the lesson's script) with torch's
default threading, as the lesson's script runs, and prints its arguments and the numbers as one
CSV line: seed,depth,width,activation,optimizer,lr,steps,init,start_loss,end_loss,val_acc
(9 significant digits, as the study's tables).
"""

import sys

import torch  # noqa: F401  (the import a real per-configuration script pays for)

from initlab.engine.data import make_moons_split
from initlab.engine.train import TrainSpec, train_one


def main() -> None:
    seed, depth, width, activation, optimizer, lr, steps, init = sys.argv[1:9]
    spec = TrainSpec(int(depth), int(width), activation, optimizer, float(lr), int(steps))
    r = train_one(make_moons_split(), spec, init, int(seed))
    values = [format(v, ".9g") for v in (r.start_loss, r.end_loss, r.val_acc)]
    print(",".join([*sys.argv[1:9], *values]))


if __name__ == "__main__":
    main()
