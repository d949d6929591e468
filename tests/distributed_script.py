"""One process of the 2-process data-parallel fit of test_distributed.py.

Run by ``python -m torch.distributed.run --standalone --nproc_per_node=2
distributed_script.py OUT_DIR``: each process fits a PDiffClassifier through an
``accelerate.Accelerator`` on the CPU (gloo backend) and writes what it saw at every
step, and its fitted results, to ``OUT_DIR/rank<r>.npz``; it fits on the rows as a torch
Dataset, the reference on the array. test_distributed.py imports
the data, settings and recorder from here for its single-process reference fit.
"""

import pickle
import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import make_classification
from skorch.callbacks import Callback
from torch.utils.data import TensorDataset

from cleanlab_pdiff import MLP, PDiffClassifier, make_noisy_labels

#: Processes, and rows per process and step: one process with a batch of
#: N_PROCESSES * BATCH_SIZE sees the same global batches.
N_PROCESSES, BATCH_SIZE = 2, 16


def small_mlp(n_features, n_classes):
    """A one-layer MLP without dropout, which would draw different masks per process."""
    return MLP(n_features, n_classes, hidden=(32,))


#: 256 rows: 8 global steps an epoch, no partial batch. The window is capped at one epoch
#: of steps (8, not the 16 batches of BATCH_SIZE), weighting starts in the second epoch and
#: the drop rate ramps up to 0.2 over t_k = 2 epochs.
SETTINGS = {
    "module": small_mlp,
    "noise_rate": 0.2,
    "t_k": 2,
    "window": 100,
    "max_epochs": 6,
    "lr": 1e-2,
    "random_state": 0,
}


def make_data():
    """256 rows, 10 features, 3 classes, 20% of the labels flipped."""
    X, y = make_classification(
        n_samples=256,
        n_features=10,
        n_informative=6,
        n_classes=3,
        class_sep=1.5,
        random_state=0,
    )
    return X.astype(np.float32), make_noisy_labels(y, 0.2, random_state=0)


class StepRecorder(Callback):
    """Keeps the P-DIFF state after each training step, and the rows of the step."""

    def initialize(self):
        """Start an empty recording."""
        self.hists, self.t_bins, self.drop_rates, self.rows = [], [], [], []
        return self

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        """Copy the window's histogram, the threshold and the drop rate to the host."""
        if not training:
            return
        pdiff = net.criterion_.pdiff
        self.hists.append(pdiff.hist.cpu().numpy().copy())
        self.t_bins.append(int(pdiff.t_bin))
        self.drop_rates.append(float(pdiff.drop_rate))
        self.rows.append(np.asarray(batch[1]["index"].cpu()))

    def results(self, clf, X):
        """Return the recording and the fitted results as arrays, by name."""
        return {
            "hists": np.stack(self.hists),
            "t_bins": np.array(self.t_bins),
            "drop_rates": np.array(self.drop_rates),
            "rows": np.stack(self.rows),
            "proba": clf.predict_proba(X),
            "quality": clf.training_label_quality_,
            "issues": clf.label_issues_,
            "noise_rate": clf.noise_rate_,
            "window": clf.window_,
            "kept_fraction": np.array(clf.history_[:, "kept_fraction"]),
        }


def main(out_dir):
    """Fit on this process's share; save ``rank<r>.npz`` and, from process 0, ``model.pkl``."""
    from accelerate import Accelerator

    accelerator = Accelerator(cpu=True)
    assert accelerator.num_processes == N_PROCESSES, accelerator.num_processes
    X, y = make_data()
    recorder = StepRecorder()
    # Fitted on the rows as a torch Dataset (the reference fits on the array): each item's
    # index must lead P-DIFF's per-example state across the processes as a row number does.
    clf = PDiffClassifier(
        batch_size=BATCH_SIZE, accelerator=accelerator, callbacks=[recorder], **SETTINGS
    ).fit(TensorDataset(torch.from_numpy(X)), y)
    results = recorder.results(clf, X)
    try:
        clf.partial_fit(X, y)
    except NotImplementedError:
        results["partial_fit_refused"] = True
    np.savez(Path(out_dir) / f"rank{accelerator.process_index}.npz", **results)
    if accelerator.is_main_process:
        with open(Path(out_dir) / "model.pkl", "wb") as f:
            pickle.dump(clf, f)
    accelerator.end_training()


if __name__ == "__main__":
    # From the module by its name, so that the pickled model refers to
    # distributed_script.small_mlp rather than to __main__'s.
    import distributed_script

    distributed_script.main(sys.argv[1])
