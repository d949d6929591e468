"""The scikit-learn estimator: a thin facade over a private skorch net.

``fit`` checks the hyper-parameters with the table above ``__init__``, wraps ``X`` once
(``_fit.validation``) and encodes the labels and weights (``_fit.targets``); then
``_fit.fitting`` trains (see ``docs/architecture.md``).
"""

import numbers

import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from ._fit.fitting import check_continuable, fit_more, fit_new
from ._fit.inputs import RowSubset
from ._fit.persistence import PicklingMixin
from ._fit.placement import is_accelerator, is_device, resolve_placement
from ._fit.targets import TrainingData, encode_targets
from ._fit.training import predict_proba
from ._fit.validation import validate_input
from ._params import Param, check_params, is_random_state
from .label_issues import LabelIssuesMixin
from .noise_rate import issue_mask
from .pdiff import PARAMETERS as PDIFF

__all__ = ["PDiffClassifier"]


class PDiffClassifier(PicklingMixin, LabelIssuesMixin, ClassifierMixin, BaseEstimator):
    """Neural-network classifier trained with P-DIFF on noisily labelled data.

    P-DIFF tracks the distribution of ``delta = p[given label] - max p[other class]``
    over recent mini-batches and drops from the gradient the samples in its lowest
    ``noise_rate`` share, the likeliest mislabelled (Hu et al., ICPR 2020). A private skorch
    net made in :meth:`fit` trains the network: :func:`sklearn.base.clone` is unfitted.

    Parameters
    ----------
    module : None, torch.nn.Module or callable, default=None
        The network, returning logits: ``None`` for :class:`MLP` (2-D ``X``) or
        :class:`CNN9` (images ``(N, C, H, W)``); a module, deep-copied at each fit; or a
        callable ``(n_features, n_classes) -> nn.Module`` called at each fit under the
        seeded generator (``n_features`` is ``X.shape[1]``); see ``networks.build_module``.
    noise_rate : "auto" or float, default="auto"
        Share of wrong labels, in [0, 1), if known: P-DIFF drops that share once the
        ramp is over; 0 is plain training. ``"auto"`` estimates it.
    probe_folds : int, default=3
        With ``"auto"``: folds of the held-out probes that estimate the noise rate before
        training (``docs/pdiff.md``); 0: the released layer's online estimate (the paper's).
    retrain : "auto", float or None, default="auto"
        Which network is the model. ``"auto"``: held-out evidence on cross-fitted folds
        picks the P-DIFF run, a network retrained plainly on the rows the run ranks best
        (outside the estimated share, or the probes' disagreement), or plain training
        where leaving rows out does not pay (``model_selection_``, ``docs/pdiff.md``);
        a float ``f >= 1``: always retrain, leaving out ``f * noise_rate_`` (at most 0.8);
        None: the run (the paper's). A retraining stops once a held-out tenth stops
        improving.
    t_k : int, default=20
        Epochs over which the drop rate ramps up linearly from 0.
    window : int, default=100
        Recent mini-batches in the delta distribution, capped at one epoch's (``window_``).
    zeta : float, default=0.9
        Saturation (mean ``|delta|`` of the window) freezing the estimate.
    per_class : bool, default=False
        One delta distribution and threshold per given label (beyond the paper): each class
        drops its own lowest ``noise_rate`` share. Helps under pair-like noise, hurts
        elsewhere (``docs/benchmarks.md``).
    standardize : bool, default=True
        Standardise each feature (each channel of images) with the training data's mean
        and deviation, batch by batch, in training and prediction (``mean_``,
        ``scale_``); sparse ``X`` is scaled, not centred.
    augment : bool, default=False
        Images: training batches cropped after padding by 4 and flipped at random (the paper's).
    class_weight : None, "balanced" or dict, default=None
        Weights of the classes, as in scikit-learn, multiplying ``sample_weight``.
    max_epochs : int, default=100
        Number of training epochs.
    batch_size : int, default=128
        Mini-batch size for training and prediction.
    lr : float, default=1e-3
        Learning rate.
    optimizer : callable, default=torch.optim.Adam
        Called as ``optimizer(params, lr=lr, weight_decay=weight_decay)``;
        e.g. ``functools.partial(torch.optim.SGD, momentum=0.9)``.
    weight_decay : float, default=0.0
        L2 penalty passed to the optimizer.
    validation_fraction : float or None, default=None
        Share of the rows held out (stratified) to score each epoch: ``valid_loss``
        and ``valid_acc``, the accuracy on their given labels, which tracks the accuracy
        on the true labels under label noise (their loss does not). ``None``: 0.1 with
        ``early_stopping``, else none. Held-out rows get a NaN ``training_label_quality_``.
    early_stopping : bool or int, default=False
        Stop when ``valid_acc`` has not risen for 10 epochs (or this many); keep the best.
    device : str or torch.device, default="auto"
        ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"`` or ``"cuda:<index>"``.
    precision : {"float32", "bf16"}, default="float32"
        ``"bf16"``: the forward pass under bfloat16 autocast; P-DIFF's statistics float32.
    accelerator : accelerate.Accelerator or None, default=None
        Train data-parallel through Hugging Face Accelerate (the ``distributed`` extra), the
        delta histogram summed across the processes at every step; see
        ``docs/distributed.md``. Clones share it.
    n_threads : int or None, default=None
        torch's threads in training and prediction; ``None``: torch's (one per core).
    num_workers : int, default=0
        Worker processes of the DataLoaders; 0 loads in the main process.
    pin_memory : bool, default=False
        Whether the DataLoaders pin batches in page-locked memory (CUDA).
    callbacks : list of skorch callbacks or (name, callback) pairs, default=None
        Extra skorch callbacks, e.g. ``Checkpoint`` and ``LoadInitState`` to resume a
        killed run (the P-DIFF state is saved with the criterion).
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling and dropout (not the caller's torch generator);
        the same integer and thread count give the same predictions on the CPU.
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
        Share of wrong labels: the held-out estimate with ``"auto"`` (the
        online one with ``probe_folds=0``), else the given rate.
    window_ : int
        Window in force, in mini-batches (see ``window``).
    mean_, scale_ : ndarray or None
        The standardisation of the inputs (None without ``standardize``).
    history_ : skorch.History
        Per-epoch ``train_loss`` (P-DIFF-weighted), ``drop_rate``, ``delta_threshold``
        (lower edge of the threshold bin), ``kept_fraction``, ``saturation`` (mean
        ``|delta|`` of the window) and ``weighting`` (whether the window was full).
    training_label_quality_ : ndarray of shape (n_samples,)
        Each training example's label quality from the run itself, in [0, 1], lower = more
        likely wrong: its ``p[given label]`` averaged over the run's epochs (self-confidence;
        when the retrained network is the model, the run stops after its ramp, ``t_k``).
    label_issues_ : ndarray of shape (n_samples,), bool
        The ``round(noise_rate_ * n_samples)`` examples of lowest ``training_label_quality_``.
    retrained_on_ : ndarray of shape (n_samples,), bool, or None
        Where a retrained network is the model: the rows kept for it (a tenth held out to
        stop it); else None.
    model_selection_ : ModelSelection or None
        With ``retrain="auto"``: ``chosen`` ("run", "retrained" or "plain"), ``left_out``,
        each candidate's held-out ``agreement`` with the given labels, ``n_scored`` and
        ``upper_bound`` (the estimate failed the held-out test: a warning says so). None
        where no choice was made (too few rows per class, or nothing to leave out).
    net_ : skorch.NeuralNet
        The model's skorch net (``history_`` stays the P-DIFF run's).

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

    #: Each hyper-parameter's kind and range, checked once at the start of ``fit``
    #: (``_params.check_params``); P-DIFF's own come from :data:`cleanlab_pdiff.pdiff.PARAMETERS`.
    #: What depends on the machine (CUDA, bfloat16, the accelerator's precision) is checked
    #: when the placement is resolved (``_fit.placement``), the classes of ``class_weight``
    #: against ``y``.
    _parameter_table = {
        "module": Param(
            callable,
            options=(None,),
            what="a torch.nn.Module or a callable (n_features, n_classes) -> nn.Module",
        ),
        "noise_rate": PDIFF["noise_rate"],
        "probe_folds": Param(numbers.Integral, low=2, options=(0,)),
        "retrain": Param(numbers.Real, low=1, options=(None, "auto")),
        "t_k": PDIFF["t_k"],
        "window": PDIFF["window"],
        "zeta": PDIFF["zeta"],
        "per_class": Param(bool),
        "standardize": Param(bool),
        "augment": Param(bool),
        "class_weight": Param(dict, options=(None, "balanced"), what="a dict of class to weight"),
        "max_epochs": Param(numbers.Integral, low=1),
        "batch_size": Param(numbers.Integral, low=1),
        "lr": Param(numbers.Real, low=0, low_open=True),
        "optimizer": Param(callable, what="a torch optimizer class or callable"),
        "weight_decay": Param(numbers.Real, low=0),
        "validation_fraction": Param(
            numbers.Real, 0, 1, low_open=True, high_open=True, options=(None,)
        ),
        "early_stopping": Param(numbers.Integral, low=1, options=(False, True)),
        "device": Param(is_device, what="'auto', 'cpu', 'cuda', 'cuda:<index>' or a torch.device"),
        "precision": Param(options=("float32", "bf16")),
        "accelerator": Param(is_accelerator, options=(None,), what="an accelerate.Accelerator"),
        "n_threads": Param(numbers.Integral, low=1, options=(None,)),
        "num_workers": Param(numbers.Integral, low=0),
        "pin_memory": Param(bool),
        "callbacks": Param((list, tuple), options=(None,), what="a list of skorch callbacks"),
        "random_state": Param(is_random_state, what="an int or a numpy RandomState"),
        "verbose": Param(numbers.Integral, low=0, options=(False, True)),
    }

    def __init__(
        self,
        module=None,
        *,
        noise_rate="auto",
        probe_folds=3,
        retrain="auto",
        t_k=20,
        window=100,
        zeta=0.9,
        per_class=False,
        standardize=True,
        augment=False,
        class_weight=None,
        max_epochs=100,
        batch_size=128,
        lr=1e-3,
        optimizer=torch.optim.Adam,
        weight_decay=0.0,
        validation_fraction=None,
        early_stopping=False,
        device="auto",
        precision="float32",
        accelerator=None,
        n_threads=None,
        num_workers=0,
        pin_memory=False,
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self.module = module
        self.noise_rate = noise_rate
        self.probe_folds = probe_folds
        self.retrain = retrain
        self.t_k = t_k
        self.window = window
        self.zeta = zeta
        self.per_class = per_class
        self.standardize = standardize
        self.augment = augment
        self.class_weight = class_weight
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.device = device
        self.precision = precision
        self.accelerator = accelerator
        self.n_threads = n_threads
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X, y=None, sample_weight=None):
        """Train the network with P-DIFF.

        Parameters
        ----------
        X : array-like, sparse matrix or torch Dataset of samples (n_features,) or (C, H, W)
            Finite training data, read a batch at a time (``docs/large_data.md``).
        y : array-like of shape (n_samples,), default=None
            Given, possibly wrong, labels (two classes or more); None: a Dataset's ``targets``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of each sample's loss and of its mass in the
            delta distribution, on top of P-DIFF's 0/1 weights.

        Returns
        -------
        self : PDiffClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, classes=None)

    def partial_fit(self, X, y=None, classes=None, sample_weight=None):
        """Continue training for ``max_epochs`` more epochs, as skorch's ``partial_fit`` does.

        On an unfitted estimator this is :meth:`fit`. Otherwise the network, optimizer,
        P-DIFF window, ramp and random state continue (on the CPU, ``fit`` for ``a`` epochs
        then ``partial_fit`` for ``b`` is ``fit`` for ``a + b``, also across a pickle); the
        held-out estimate and other parameters stay the first call's; the per-example
        results describe the latest rows. A data-parallel or retrained fit can't continue.

        Parameters
        ----------
        X : array-like of the training data's shape but the first axis
        y : array-like of shape (n_samples,), default=None
            Given labels, each among ``classes_`` once fitted.
        classes : array-like, default=None
            All classes, for a first call whose ``y`` lacks some; later ``classes_``.
        sample_weight : array-like of shape (n_samples,), default=None
            As in :meth:`fit`.

        Returns
        -------
        self : PDiffClassifier
            The fitted estimator.
        """
        if not self.__sklearn_is_fitted__():
            return self._fit(X, y, sample_weight, classes=classes)
        check_continuable(self, classes)  # before _fit, which forgets a fit that fails
        return self._fit(X, y, sample_weight, classes=self.classes_, net=self.net_)

    def _fit(self, X, y, sample_weight, classes, net=None):
        fresh = net is None
        if fresh:
            self._forget_fit()
        try:
            check_params(self.get_params(), self._parameter_table)
            placement = resolve_placement(self.device, self.accelerator, self.precision)
            inputs, y = validate_input(self, X, y, reset=fresh)
            classes, labels, weight = encode_targets(y, classes, sample_weight, self.class_weight)
        except Exception:
            if fresh:  # validate_data may have set n_features_in_: leave nothing behind
                self._forget_fit()
            raise
        data = TrainingData(inputs, labels, weight, classes.size)
        try:
            if fresh:
                fitted = fit_new(self, data, placement)
            else:
                fitted = fit_more(self, data, net, self._held_out_)
        except Exception:
            # The half-trained network can't be trusted: leave the estimator unfitted.
            self._forget_fit()
            raise
        self.classes_ = classes
        self._input_shape_ = inputs.sample_shape
        self._held_out_ = fitted.held_out
        self.mean_, self.scale_ = fitted.run.iterator_valid__scaling or (None, None)
        self.net_, self.retrained_on_ = fitted.model, fitted.kept
        if fresh:  # partial_fit goes on with the model the first fit chose
            self.model_selection_ = fitted.selection
        self.history_ = fitted.run.history
        self.window_ = fitted.run.criterion_.pdiff.window
        self.noise_rate_ = fitted.noise_rate
        self.training_label_quality_ = fitted.quality
        self.label_issues_ = issue_mask(fitted.quality, fitted.noise_rate)
        return self

    def _forget_fit(self):
        for name in [name for name in vars(self) if name.endswith("_")]:
            delattr(self, name)

    def predict_proba(self, X):
        """Return class probabilities (softmax of the network's logits).

        Parameters
        ----------
        X : array-like of the training data's shape but the first axis

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), float32
            Columns follow ``classes_``.
        """
        check_is_fitted(self)
        inputs, _ = validate_input(self, X, reset=False)
        return predict_proba(self.net_, RowSubset(inputs), self.classes_.size)

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
        proba = self.predict_proba(X)  # first: it checks that the model is fitted
        return self.classes_[proba.argmax(axis=1)]

    def __sklearn_is_fitted__(self):
        return hasattr(self, "net_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # made dense a batch at a time
        return tags
