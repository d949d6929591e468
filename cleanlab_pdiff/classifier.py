"""The scikit-learn estimator: a thin facade over a private skorch net."""

import contextlib
import copy
import math
import numbers

import numpy as np
import torch
from cleanlab.filter import find_label_issues as cleanlab_find_label_issues
from cleanlab.rank import get_label_quality_scores
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.utils import check_consistent_length, check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
from torch import nn

from ._skorch import (
    CALLBACK_NAME,
    AcceleratedPDiffNet,
    PDiffCallback,
    PDiffNet,
    batch_loader,
    net_device,
    print_once,
    softmax,
)
from ._validation import (
    check_device,
    check_feature_scale,
    check_noise_rate,
    check_not_datetime,
    check_number,
    check_sample_weight,
)
from .loss import PDiffLoss
from .networks import CNN9, MLP
from .pdiff import WEIGHTINGS

__all__ = ["PDiffClassifier"]

#: cleanlab's label-quality scoring methods.
QUALITY_METHODS = ("normalized_margin", "self_confidence", "confidence_weighted_entropy")

#: Values of ``precision``: the autocast dtype of the forward pass, and the matching
#: ``mixed_precision`` of an ``accelerate.Accelerator``.
PRECISIONS = {"float32": (None, "no"), "bf16": (torch.bfloat16, "bf16")}


class PDiffClassifier(ClassifierMixin, BaseEstimator):
    """Neural-network classifier trained with P-DIFF on noisily labelled data.

    During training, P-DIFF tracks the distribution of the probability
    difference ``delta = p[given label] - max p[other class]`` over a sliding
    window of recent mini-batches and drops from the gradient the samples in
    the lowest ``noise_rate`` share of that distribution: the ones most
    likely mislabelled (Hu et al., ICPR 2020). With ``noise_rate="auto"`` it
    estimates the noise rate itself.

    The network is trained by a private skorch net created in :meth:`fit`,
    so :func:`sklearn.base.clone` gives an independent, unfitted model.

    Parameters
    ----------
    module : None, torch.nn.Module or callable, default=None
        The network; it must return logits. ``None`` builds :class:`MLP`
        for 2-D ``X`` and :class:`CNN9` for 4-D ``X`` of shape
        ``(N, C, H, W)``. A module instance is deep-copied at each fit (its
        initial weights are used as given). A callable
        ``(n_features, n_classes) -> nn.Module`` (a module class, say) is
        called at each fit, under the seeded generator; ``n_features`` is
        ``X.shape[1]`` (the channels for images).
    noise_rate : "auto" or float, default="auto"
        Share of the data to drop once the ramp is over, in [0, 1); 0 is
        plain training. ``"auto"`` estimates it online: while the network
        warms up (or is not yet saturated), the estimate is the share of the
        window with ``delta`` below a threshold ramping from -1 to 0; it
        freezes when the mean ``|delta|`` reaches ``zeta``.
    t_k : int, default=20
        Epochs over which the drop rate ramps up linearly from 0.
    window : int, default=100
        Number of recent mini-batches in the delta distribution. It is
        capped at one epoch's worth of batches (``ceil(N / batch_size)``):
        a longer window would count samples twice, with stale deltas. The
        window in force is ``window_``.
    zeta : float, default=0.9
        Saturation (mean ``|delta|`` over the window) at which the automatic
        noise-rate estimate freezes, in (0, 1].
    per_class : bool, default=False
        One delta distribution and threshold per given label instead of one
        for all (beyond the paper; see ``docs/pdiff.md``): each class drops
        its own lowest ``noise_rate`` share. Helps under pair-like noise
        (a class's labels moved to one other class) and hurts elsewhere in
        ``docs/benchmarks.md``.
    weighting : {"hard", "soft"}, default="hard"
        ``"hard"``: the paper's 0/1 weights. ``"soft"``: weights ramping
        from 0 to 1 over the 0.1 of delta below the threshold (an ablation;
        no better than ``"hard"`` in ``docs/benchmarks.md``).
    negative_learning : bool, default=False
        Train dropped examples away from their given label with
        ``-log(1 - p[y])`` instead of ignoring them (P-DIFF+-like; worse
        than ignoring them in every cell of ``docs/benchmarks.md``).
    max_epochs : int, default=100
        Number of training epochs.
    batch_size : int, default=128
        Mini-batch size for training and prediction.
    lr : float, default=1e-3
        Learning rate.
    optimizer : callable, default=torch.optim.Adam
        Optimizer class, called as ``optimizer(params, lr=lr,
        weight_decay=weight_decay)``; use :func:`functools.partial` for
        further arguments, e.g. ``partial(torch.optim.SGD, momentum=0.9)``.
    weight_decay : float, default=0.0
        L2 penalty passed to the optimizer.
    device : str or torch.device, default="auto"
        ``"auto"`` (CUDA when present, else CPU), ``"cpu"``, ``"cuda"`` or
        ``"cuda:<index>"``. Must stay ``"auto"`` with an ``accelerator``,
        which places the network itself.
    precision : {"float32", "bf16"}, default="float32"
        ``"bf16"`` runs the network's forward pass under bfloat16 autocast
        (:func:`torch.autocast`), in training and prediction, on the CPU or
        a CUDA device that supports it. The logits are turned back into
        float32 before the loss, so P-DIFF's ``delta`` and per-example
        statistics stay float32 and its histograms float64. With an
        ``accelerator``, its ``mixed_precision`` must be the same (``"no"``
        for ``"float32"``).
    accelerator : accelerate.Accelerator or None, default=None
        Train through Hugging Face Accelerate (the ``distributed`` extra),
        e.g. data-parallel on several GPUs or machines, in a script started
        with ``accelerate launch`` or ``torchrun``; see
        ``docs/distributed.md``. Each process trains on its share of every
        epoch's batches of ``batch_size`` rows (the global batch is
        ``batch_size`` times the number of processes), and the delta
        histogram is summed across the processes at every step, so all of
        them apply the same threshold and noise-rate estimate. Every process
        must call :meth:`fit` and :meth:`predict_proba` with the same data.
        Clones share the accelerator.
    num_workers : int, default=0
        Worker processes of the training and prediction DataLoaders
        (``torch.utils.data.DataLoader``); 0 loads in the main process.
    pin_memory : bool, default=False
        Whether the DataLoaders put batches in pinned (page-locked) memory,
        for faster copies to a CUDA device.
    callbacks : list of skorch callbacks or (name, callback) pairs, default=None
        Extra skorch callbacks for the private net, e.g.
        ``skorch.callbacks.Checkpoint`` and ``LoadInitState`` to resume a
        killed run (the P-DIFF state is saved with the criterion).
    random_state : int, RandomState instance or None, default=None
        Seeds network initialisation, shuffling and dropout (the global
        torch generator is restored after :meth:`fit`). The same integer
        gives the same predictions on the CPU. With an ``accelerator``,
        process 0's initial weights and shuffles are used by all processes,
        and each process draws its own dropout masks.
    verbose : int, default=0
        Print skorch's per-epoch table when positive.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features (``X.shape[1]``) seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when ``X`` had string column names.
    noise_rate_ : float
        Drop rate in force at the end of training: the estimated noise rate
        in ``"auto"`` mode.
    window_ : int
        Window in force, in mini-batches (see ``window``).
    history_ : skorch.History
        Per-epoch diagnostics: ``train_loss`` (the P-DIFF-weighted loss),
        ``drop_rate``, ``delta_threshold`` (lower edge of the threshold
        bin), ``kept_fraction`` (share of the examples kept at their step
        in the epoch),
        ``saturation`` (mean ``|delta|`` over the window) and ``weighting``
        (whether the window was full); e.g. ``history_[:, "drop_rate"]``.
    training_label_quality_ : ndarray of shape (n_samples,)
        Label quality of each training example from the training run itself,
        in [0, 1], lower = more likely mislabelled: ``(delta + 1) / 2`` with
        ``delta`` averaged over the example's last 5 epochs (the same scale
        as cleanlab's ``normalized_margin``). Rows follow the training ``X``.
    label_issues_ : ndarray of shape (n_samples,), bool
        Training examples that P-DIFF's threshold excluded at their last
        training step.
    net_ : skorch.NeuralNet
        The trained skorch net.

    See Also
    --------
    cleanlab_pdiff.pdiff.PDiff : The P-DIFF weighting for a custom training loop.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from cleanlab_pdiff import PDiffClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = PDiffClassifier(max_epochs=5, random_state=0).fit(X / 16, y)
    >>> clf.predict_proba(X[:2] / 16).shape
    (2, 10)
    >>> 0 <= clf.noise_rate_ < 1
    True
    """

    def __init__(
        self,
        module=None,
        *,
        noise_rate="auto",
        t_k=20,
        window=100,
        zeta=0.9,
        per_class=False,
        weighting="hard",
        negative_learning=False,
        max_epochs=100,
        batch_size=128,
        lr=1e-3,
        optimizer=torch.optim.Adam,
        weight_decay=0.0,
        device="auto",
        precision="float32",
        accelerator=None,
        num_workers=0,
        pin_memory=False,
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self.module = module
        self.noise_rate = noise_rate
        self.t_k = t_k
        self.window = window
        self.zeta = zeta
        self.per_class = per_class
        self.weighting = weighting
        self.negative_learning = negative_learning
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.device = device
        self.precision = precision
        self.accelerator = accelerator
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X, y, sample_weight=None):
        """Train the network with P-DIFF.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, C, H, W)
            Training data; finite numbers (converted to float32).
        y : array-like of shape (n_samples,)
            Given, possibly wrong, labels: integers or strings, at least two
            classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative per-sample weights. They scale each sample's loss
            and its mass in the delta distribution, on top of P-DIFF's 0/1
            weights.

        Returns
        -------
        self : PDiffClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, classes=None)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Continue training for ``max_epochs`` more epochs, as skorch's ``partial_fit`` does.

        On an unfitted estimator this is :meth:`fit`. Otherwise the network,
        the optimizer, the P-DIFF window, the epoch count of the drop-rate
        ramp and the random-number state all continue where they stopped:
        on the CPU, ``fit`` for ``a`` epochs then ``partial_fit`` for ``b``
        gives the same model as ``fit`` for ``a + b``, also after a pickle
        round trip. Other changed hyper-parameters do not apply to the
        network already built. The per-example results
        (``training_label_quality_``, ``label_issues_``) describe the rows
        of the latest call; they start afresh when its number of rows
        differs from the previous call's. A fit through an ``accelerator``
        with several processes can't be continued.

        Parameters
        ----------
        X : array-like of the training data's shape but the first axis
        y : array-like of shape (n_samples,)
            Given labels, each among ``classes_`` once fitted.
        classes : array-like, default=None
            All classes, for a first call whose ``y`` may lack some;
            afterwards it must equal ``classes_``.
        sample_weight : array-like of shape (n_samples,), default=None
            As in :meth:`fit`.

        Returns
        -------
        self : PDiffClassifier
            The fitted estimator.
        """
        if not self.__sklearn_is_fitted__():
            return self._fit(X, y, sample_weight, classes=classes)
        check_number("max_epochs", self.max_epochs, kind=numbers.Integral, low=1)
        if classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"classes must equal classes_ {self.classes_.tolist()} once fitted, got "
                f"{np.unique(classes).tolist()}."
            )
        X, y = self._validate(X, y, reset=False)
        check_feature_scale(X)
        labels = _encode_labels(y, self.classes_)
        weight = self._check_weight(sample_weight, labels, self.classes_)
        net = self.net_
        if isinstance(net, AcceleratedPDiffNet) and net.accelerator.num_processes > 1:
            raise NotImplementedError(
                "partial_fit can't continue a data-parallel fit: skorch unwraps the "
                "distributed network after training. Fit again with more max_epochs."
            )
        if net.criterion_.last_weights.numel() != X.shape[0]:
            net.criterion_.reset_examples(X.shape[0])
        try:
            with _forked_rng(net_device(net)):
                net.partial_fit(X, _targets(labels, weight), epochs=self.max_epochs)
        except Exception:
            # The half-trained network can't be trusted: leave the estimator unfitted.
            self._forget_fit()
            raise
        return self._set_fitted(net, self.classes_, X)

    def _fit(self, X, y, sample_weight, classes):
        self._forget_fit()
        try:
            return self._fit_from_scratch(X, y, sample_weight, classes)
        except Exception:
            # Validation may have set n_features_in_: a failed fit leaves nothing behind.
            self._forget_fit()
            raise

    def _fit_from_scratch(self, X, y, sample_weight, classes):
        noise_rate = check_noise_rate(self.noise_rate)
        self._check_hyperparameters()
        accelerator = self._check_accelerator()
        device = check_device(self.device) if accelerator is None else accelerator.device
        autocast_dtype = self._check_precision(device, accelerator)
        X, y = self._validate(X, y, reset=True)
        check_feature_scale(X)
        check_classification_targets(y)
        if classes is None:
            classes, labels = np.unique(y, return_inverse=True)
        else:
            classes = np.unique(classes)
            labels = _encode_labels(y, classes)
        weight = self._check_weight(sample_weight, labels, classes)
        n_processes = 1 if accelerator is None else accelerator.num_processes
        # Each process takes every n_processes-th batch: the window counts its own steps.
        batches = math.ceil(math.ceil(X.shape[0] / self.batch_size) / n_processes)
        window = min(self.window, batches)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        if accelerator is None:
            net_class, placement = PDiffNet, {"device": str(device)}
        else:
            # Process 0's initial weights reach the others when the module is wrapped and
            # the shuffling seed is shared; dropout is drawn independently by each process.
            seed += accelerator.process_index
            net_class = AcceleratedPDiffNet
            placement = {
                "accelerator": accelerator,
                "device": None if accelerator.device_placement else str(device),
                # skorch's log prints through any sink but `print` whatever the verbosity.
                "callbacks__print_log__sink": print_once if self.verbose else print,
            }
        loader = {"num_workers": self.num_workers, "pin_memory": self.pin_memory}
        with _forked_rng(device, seed):
            net = net_class(
                self._build_module(X, classes.size),
                criterion=PDiffLoss,
                criterion__window=window,
                criterion__noise_rate=noise_rate,
                criterion__t_k=self.t_k,
                criterion__zeta=self.zeta,
                criterion__n_classes=classes.size if self.per_class else None,
                criterion__weighting=self.weighting,
                criterion__negative_learning=self.negative_learning,
                criterion__n_samples=X.shape[0],
                predict_nonlinearity=softmax,
                optimizer=self.optimizer,
                lr=self.lr,
                optimizer__weight_decay=self.weight_decay,
                max_epochs=self.max_epochs,
                batch_size=self.batch_size,
                iterator_train=batch_loader,
                iterator_train__shuffle=True,
                **{f"iterator_train__{name}": value for name, value in loader.items()},
                iterator_valid=batch_loader,
                **{f"iterator_valid__{name}": value for name, value in loader.items()},
                train_split=None,
                # First, so that its epoch-end state is in place before a user's
                # Checkpoint saves the criterion.
                callbacks=[(CALLBACK_NAME, PDiffCallback()), *(self.callbacks or [])],
                autocast_dtype=autocast_dtype,
                verbose=self.verbose,
                **placement,
            )
            net.fit(X, _targets(labels, weight))
        return self._set_fitted(net, classes, X)

    def _set_fitted(self, net, classes, X):
        # Fitted attributes are set only once training has succeeded.
        criterion = net.criterion_
        self.classes_ = classes
        self._input_shape = X.shape[1:]
        self.window_ = criterion.pdiff.window
        self.net_ = net
        self.history_ = net.history
        self.noise_rate_ = float(criterion.pdiff.drop_rate)
        self.training_label_quality_ = criterion.training_quality().cpu().numpy()
        self.label_issues_ = (criterion.last_weights == 0).cpu().numpy()
        return self

    def _forget_fit(self):
        for name in [name for name in vars(self) if name.endswith("_")]:
            delattr(self, name)

    def _validate(self, X, y="no_validation", *, reset):
        """Validate ``X`` (and ``y``, unless ``"no_validation"``) as scikit-learn does."""
        check_not_datetime(X)
        if isinstance(y, str) and y == "no_validation":
            X = validate_data(self, X, dtype=np.float32, allow_nd=True, reset=reset)
        else:
            X, y = validate_data(self, X, y, dtype=np.float32, allow_nd=True, reset=reset)
        if not reset and X.shape[1:] != self._input_shape:
            raise ValueError(
                f"X has shape {X.shape}; the model was fitted on samples of shape "
                f"{self._input_shape}."
            )
        return X, y

    @staticmethod
    def _check_weight(sample_weight, labels, classes):
        weight = check_sample_weight(sample_weight, labels.shape[0])
        n_weighted = np.unique(labels if weight is None else labels[weight > 0]).size
        if n_weighted < 2:
            raise ValueError(
                f"y must hold at least 2 classes with positive sample weight; got "
                f"{n_weighted} class(es) ({classes.size} in classes_). A classifier can't "
                f"train when only one class is present."
            )
        return weight

    def predict_proba(self, X):
        """Return class probabilities (softmax of the network's logits).

        Parameters
        ----------
        X : array-like of the training data's shape but the first axis

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), float32
            Columns follow ``classes_``. The network computes in float32, so
            the probabilities are float32 too.
        """
        check_is_fitted(self)
        X, _ = self._validate(X, reset=False)
        # Written batch by batch into one array: skorch's predict_proba keeps a list of
        # small per-batch arrays, which fragments the heap (up to 1.6 x X's size on 1M rows).
        proba = np.empty((X.shape[0], self.classes_.size), dtype=np.float32)
        start = 0
        # The DataLoader draws a seed even without shuffling; keep the caller's state.
        with _forked_rng(net_device(self.net_)):
            for logits in self.net_.forward_iter(X, training=False):
                stop = start + logits.shape[0]
                proba[start:stop] = softmax(logits).numpy()
                start = stop
        return proba

    def predict(self, X):
        """Return the most probable class of each sample.

        Parameters
        ----------
        X : array-like of the training data's shape but the first axis

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def label_quality_scores(self, X, y, *, method="normalized_margin"):
        """Return a label-quality score for each example, lower = more likely wrong.

        The scores are cleanlab's, computed by
        :func:`cleanlab.rank.get_label_quality_scores` from this model's
        ``predict_proba(X)``. For examples the model was trained on, the
        training run's own ``training_label_quality_`` is usually the
        better score; pass held-out data here, or use
        ``cross_val_predict`` (see :meth:`find_label_issues` with ``cv``).

        Parameters
        ----------
        X : array-like of the training data's shape but the first axis
        y : array-like of shape (n_samples,)
            Given labels, each among ``classes_``.
        method : {"normalized_margin", "self_confidence", \
                "confidence_weighted_entropy"}, default="normalized_margin"
            cleanlab's scoring method. ``normalized_margin`` is
            ``(delta + 1) / 2``.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Values in [0, 1].
        """
        if method not in QUALITY_METHODS:
            raise ValueError(f"method must be one of {QUALITY_METHODS}, got {method!r}.")
        pred_probs = self.predict_proba(X)
        y = column_or_1d(y)
        if y.shape[0] != pred_probs.shape[0]:
            raise ValueError(f"X has {pred_probs.shape[0]} samples but y has {y.shape[0]}.")
        labels = _encode_labels(y, self.classes_)
        return get_label_quality_scores(labels, pred_probs, method=method)

    def find_label_issues(self, X, y, *, return_indices_ranked_by=None, cv=None, n_jobs=None):
        """Fit, then flag the examples whose given label is probably wrong.

        By default one P-DIFF training run does it all: the estimator is
        fitted on ``(X, y)`` and the ``round(rate * n_samples)`` examples of
        lowest ``training_label_quality_`` are flagged, where ``rate`` is
        P-DIFF's own estimate ``noise_rate_`` with ``noise_rate="auto"``,
        else the given ``noise_rate``. With
        ``cv``, out-of-sample ``pred_probs`` from ``cv`` folds (clones of
        this estimator; ``self`` is left as it is) go to
        :func:`cleanlab.filter.find_label_issues`, cleanlab's standard
        recipe.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Features.
        y : array-like of shape (n_samples,)
            Given labels.
        return_indices_ranked_by : None or str, default=None
            ``None`` returns a boolean mask. Otherwise the indices of the
            flagged examples, worst first, ranked by this cleanlab score:
            without ``cv`` only ``"normalized_margin"`` (the training-time
            one); with ``cv`` any of cleanlab's ``"self_confidence"``,
            ``"normalized_margin"``, ``"confidence_weighted_entropy"``.
        cv : None, int or cross-validation splitter, default=None
            ``None`` for the single P-DIFF run; otherwise the folds of
            :func:`sklearn.model_selection.cross_val_predict` (an int means
            shuffled stratified folds seeded by ``random_state``).
        n_jobs : int or None, default=None
            With ``cv``: number of folds trained at once, by joblib
            (``None`` means 1 unless in a :func:`joblib.parallel_config`
            context; -1 means all CPUs). The result does not depend on it.
            joblib's default backend runs the folds in separate processes
            and limits each one's OpenMP threads, which torch uses, to its
            share of the CPUs. For a cluster, train the folds on its workers
            with a joblib backend such as Dask's (``with
            joblib.parallel_config(backend="dask"):``, with a
            ``dask.distributed.Client`` connected); see
            ``docs/distributed.md``. Ignored without ``cv``.

        Returns
        -------
        label_issues : ndarray
            Boolean mask of shape (n_samples,), or int indices worst first.
        """
        allowed = QUALITY_METHODS if cv is not None else ("normalized_margin",)
        if return_indices_ranked_by is not None and return_indices_ranked_by not in allowed:
            raise ValueError(
                f"return_indices_ranked_by must be None or one of {allowed}"
                f"{'' if cv is not None else ' without cv'}, got {return_indices_ranked_by!r}."
            )
        if n_jobs is not None:
            check_number("n_jobs", n_jobs, kind=numbers.Integral)
            if n_jobs == 0:
                raise ValueError("n_jobs must be None, a positive integer or negative, got 0.")
        if cv is not None:
            return self._find_label_issues_cv(X, y, return_indices_ranked_by, cv, n_jobs)
        quality = self.fit(X, y).training_label_quality_
        # A given rate is the user's knowledge; it holds even if the ramp did not finish.
        rate = self.noise_rate_ if self.noise_rate == "auto" else self.noise_rate
        ranked = np.argsort(quality, kind="stable")[: round(rate * quality.size)]
        if return_indices_ranked_by is not None:
            return ranked
        mask = np.zeros(quality.size, dtype=bool)
        mask[ranked] = True
        return mask

    def _find_label_issues_cv(self, X, y, return_indices_ranked_by, cv, n_jobs):
        check_consistent_length(X, y)
        y = column_or_1d(y)
        labels = np.unique(y, return_inverse=True)[1]
        if isinstance(cv, numbers.Integral):
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            cv = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
        pred_probs = cross_val_predict(
            clone(self), X, labels, cv=cv, method="predict_proba", n_jobs=n_jobs
        )
        return cleanlab_find_label_issues(
            labels, pred_probs, return_indices_ranked_by=return_indices_ranked_by
        )

    def __getstate__(self):
        state = dict(super().__getstate__())  # object.__getstate__ gives __dict__ itself
        if state.get("accelerator") is not None:
            # Pickled as a single-process model (the net too, see AcceleratedPDiffNet): an
            # Accelerator is a handle on this process's distributed run, not a setting.
            state["accelerator"] = None
        return state

    def __sklearn_is_fitted__(self):
        return hasattr(self, "net_")

    def _check_hyperparameters(self):
        Int, Real = numbers.Integral, numbers.Real
        check_number("t_k", self.t_k, kind=Int, low=0)
        check_number("window", self.window, kind=Int, low=1)
        check_number("zeta", self.zeta, kind=Real, low=0, high=1, low_open=True)
        for name in ("per_class", "negative_learning"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}.")
        if self.weighting not in WEIGHTINGS:
            raise ValueError(
                f"weighting must be one of {sorted(WEIGHTINGS)}, got {self.weighting!r}."
            )
        check_number("max_epochs", self.max_epochs, kind=Int, low=1)
        check_number("batch_size", self.batch_size, kind=Int, low=1)
        check_number("lr", self.lr, kind=Real, low=0, low_open=True)
        check_number("weight_decay", self.weight_decay, kind=Real, low=0)
        if not callable(self.optimizer):
            raise TypeError(
                f"optimizer must be a torch optimizer class or callable, got {self.optimizer!r}."
            )
        check_number("num_workers", self.num_workers, kind=Int, low=0)
        if not isinstance(self.pin_memory, bool):
            raise TypeError(f"pin_memory must be True or False, got {self.pin_memory!r}.")

    def _check_accelerator(self):
        """Return the accelerator, or None; Accelerate is imported only when one is given."""
        if self.accelerator is None:
            return None
        try:
            from accelerate import Accelerator
        except ImportError as exc:
            raise ImportError(
                "accelerator needs Hugging Face Accelerate: pip install "
                "'cleanlab-pdiff[distributed]'."
            ) from exc
        if not isinstance(self.accelerator, Accelerator):
            raise TypeError(
                f"accelerator must be None or an accelerate.Accelerator, got "
                f"{type(self.accelerator).__name__}."
            )
        if not (isinstance(self.device, str) and self.device == "auto"):
            raise ValueError(
                f"device must be 'auto' with an accelerator, which places the network "
                f"itself; got device={self.device!r}."
            )
        return self.accelerator

    def _check_precision(self, device, accelerator):
        """Return the autocast dtype meant by ``precision`` (None for float32)."""
        if not (isinstance(self.precision, str) and self.precision in PRECISIONS):
            raise ValueError(
                f"precision must be one of {sorted(PRECISIONS)}, got {self.precision!r}."
            )
        dtype, mixed_precision = PRECISIONS[self.precision]
        if accelerator is not None and str(accelerator.mixed_precision) != mixed_precision:
            raise ValueError(
                f"precision={self.precision!r} needs the accelerator's mixed_precision to be "
                f"{mixed_precision!r}, got {str(accelerator.mixed_precision)!r}; give both "
                f"the same precision."
            )
        if dtype is torch.bfloat16 and device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise ValueError(f"precision='bf16' but the CUDA device {device} lacks bfloat16.")
        return dtype

    def _build_module(self, X, n_classes):
        n_features = X.shape[1]
        if self.module is None:
            if X.ndim == 2:
                return MLP(n_features, n_classes)
            if X.ndim == 4:
                if min(X.shape[2:]) < CNN9.MIN_SIZE:
                    raise ValueError(
                        f"The default CNN9 needs images of at least {CNN9.MIN_SIZE} x "
                        f"{CNN9.MIN_SIZE} pixels, got {X.shape[2]} x {X.shape[3]}; pass "
                        f"module=... for smaller images."
                    )
                return CNN9(n_features, n_classes)
            raise ValueError(
                f"X has {X.ndim} dimensions; the default network takes 2-D features "
                f"(n_samples, n_features) or 4-D images (n_samples, C, H, W). Pass "
                f"module=... for other shapes."
            )
        if isinstance(self.module, nn.Module):
            return copy.deepcopy(self.module)
        if callable(self.module):
            module = self.module(n_features, n_classes)
            if not isinstance(module, nn.Module):
                raise TypeError(
                    f"module(n_features, n_classes) must return a torch.nn.Module, "
                    f"got {type(module).__name__}."
                )
            return module
        raise TypeError(
            f"module must be None, a torch.nn.Module or a callable "
            f"(n_features, n_classes) -> nn.Module, got {type(self.module).__name__}."
        )


def _targets(labels, weight):
    """Targets routed with each batch: label, row index and sample weight (if any)."""
    targets = {"label": labels, "index": np.arange(labels.shape[0])}
    if weight is not None:
        targets["weight"] = weight
    return targets


def _encode_labels(y, classes):
    """Return the index of each label in ``classes``; unknown labels raise."""
    try:
        unknown = np.setdiff1d(y, classes)
    except TypeError as exc:
        raise TypeError(
            f"y mixes label types that can't be compared with classes_ "
            f"{classes.tolist()}; give labels of one type, as in fit."
        ) from exc
    if unknown.size:
        raise ValueError(
            f"y holds labels not seen in fit: {unknown[:5].tolist()}; classes_ are "
            f"{classes.tolist()}."
        )
    return np.searchsorted(classes, y)


@contextlib.contextmanager
def _forked_rng(device, seed=None):
    """Run torch code on a private copy of the global generators, optionally seeded.

    Only the CPU generator and, when training on CUDA, that device's one are
    forked and seeded; the caller's states are restored on exit.
    """
    cuda = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        if seed is not None:
            torch.default_generator.manual_seed(seed)
            for index in cuda:
                with torch.cuda.device(index):
                    torch.cuda.manual_seed(seed)
        yield
