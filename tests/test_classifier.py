"""Behaviour tests of PDiffClassifier (scikit-learn's own checks live in test_common.py)."""

import math
import pickle
import re
from functools import partial

import numpy as np
import pandas as pd
import pytest
import torch
from settings import ACCURATE, THREE_EPOCHS
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, has_fit_parameter
from torch import nn

from cleanlab_pdiff import CNN9, MLP, PDiffClassifier, make_noisy_labels

CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not CUDA, reason="needs a CUDA device")

#: Small, fast training settings shared by most tests; on the CPU, where the same
#: random_state gives the same predictions.

#: Enough training, on a small network, to fit the well-separated ``three_classes_200x8`` data.

HISTORY_KEYS = {
    "train_loss",
    "drop_rate",
    "delta_threshold",
    "kept_fraction",
    "saturation",
    "weighting",
}


@pytest.fixture(scope="module")
def images():
    """Six 1-channel 28 x 28 images, two classes: the smallest input CNN9 takes."""
    rng = np.random.RandomState(0)
    return rng.rand(6, 1, 28, 28).astype(np.float32), np.array([0, 1] * 3)


@pytest.fixture(scope="module")
def fitted(three_classes_200x8):
    """A fitted classifier; tests must only read it."""
    X, y = three_classes_200x8
    return PDiffClassifier(**THREE_EPOCHS).fit(X, y)


@pytest.fixture(scope="module")
def fitted_images(images):
    """CNN9 fitted on ``images`` (a known noise rate: no probes to train)."""
    X, y = images
    return PDiffClassifier(max_epochs=1, noise_rate=0.0, random_state=0, device="cpu").fit(X, y)


def small_mlp(n_features, n_classes):
    return MLP(n_features, n_classes, hidden=(16,))


# Parameters ---------------------------------------------------------------------------------------


def test_constructor_stores_parameters_verbatim_and_validates_nothing():
    module, optimizer, rng = nn.Linear(2, 2), object(), np.random.RandomState(0)
    params = {
        "module": module,
        "noise_rate": "nonsense",
        "probe_folds": -2,
        "retrain": 0.5,
        "standardize": "yes",
        "class_weight": "heavy",
        "validation_fraction": 2.0,
        "early_stopping": "soon",
        "n_threads": 0,
        "t_k": -3,
        "window": 1.5,
        "zeta": 7,
        "max_epochs": "many",
        "batch_size": None,
        "lr": -1.0,
        "optimizer": optimizer,
        "weight_decay": -2,
        "device": "tpu",
        "callbacks": "some",
        "random_state": rng,
        "per_class": "yes",
        "augment": "crop",
        "verbose": "loud",
        "precision": "half",
        "accelerator": "gpus",
        "num_workers": -1,
        "pin_memory": "yes",
    }
    clf = PDiffClassifier(**params)
    for name, value in params.items():
        assert getattr(clf, name) is value
    assert clf.get_params(deep=False) == params


def test_defaults_are_as_documented():
    # Every parameter's "name : type, default=value" line of the class docstring.
    documented = dict(re.findall(r"^    (\w+) : .*, default=(.+)$", PDiffClassifier.__doc__, re.M))
    params = PDiffClassifier().get_params()
    assert documented.keys() == params.keys()
    for name, text in documented.items():
        assert params[name] == eval(text, {"torch": torch}), name


def test_verbose_prints_skorch_s_epoch_table(three_classes_200x8, capsys):
    X, y = three_classes_200x8
    PDiffClassifier(**{**THREE_EPOCHS, "max_epochs": 2}).fit(X, y)
    assert capsys.readouterr().out == ""
    PDiffClassifier(verbose=1, **{**THREE_EPOCHS, "max_epochs": 2}).fit(X, y)
    table = capsys.readouterr().out
    assert "epoch" in table and "train_loss" in table and len(table.splitlines()) >= 4


def test_zeta_is_the_saturation_that_freezes_the_estimate(three_classes_200x8):
    X, y = three_classes_200x8
    params = {**THREE_EPOCHS, "noise_rate": "auto", "t_k": 2, "max_epochs": 8}
    rates = {
        zeta: PDiffClassifier(zeta=zeta, **params).fit(X, y).history_[:, "drop_rate"]
        for zeta in (1e-6, 1.0)
    }
    # Past the ramp (epoch index > t_k) a saturation above zeta freezes the estimate; none
    # reaches 1.0, so that estimate keeps following the window.
    assert len(set(rates[1e-6][3:])) == 1
    assert len(set(rates[1.0][3:])) > 1


def test_set_params_updates_and_returns_self():
    clf = PDiffClassifier()
    assert clf.set_params(noise_rate=0.2, lr=0.01, module=MLP) is clf
    params = clf.get_params()
    assert (params["noise_rate"], params["lr"], params["module"]) == (0.2, 0.01, MLP)
    with pytest.raises(ValueError, match="Invalid parameter 'learning_rate'"):
        clf.set_params(learning_rate=0.1)


def test_training_hyperparameters_reach_the_net(three_classes_200x8):
    X, y = three_classes_200x8
    sgd = partial(torch.optim.SGD, momentum=0.9)
    clf = PDiffClassifier(
        small_mlp,
        optimizer=sgd,
        lr=0.05,
        weight_decay=1e-4,
        **{**THREE_EPOCHS, "max_epochs": 2, "batch_size": 64},
    ).fit(X, y)
    assert isinstance(clf.net_.optimizer_, torch.optim.SGD)
    group = clf.net_.optimizer_.param_groups[0]
    assert (group["lr"], group["weight_decay"], group["momentum"]) == (0.05, 1e-4, 0.9)
    assert len(clf.history_) == 2
    assert len(clf.history_[-1]["batches"]) == math.ceil(len(X) / 64)


# module -------------------------------------------------------------------------------------------


def test_default_module_is_mlp_for_2d_input(fitted):
    assert type(fitted.net_.module_) is MLP


def test_default_module_is_cnn9_for_4d_input(fitted_images, images):
    X, _ = images
    assert type(fitted_images.net_.module_) is CNN9
    assert fitted_images.n_features_in_ == 1
    assert fitted_images.predict_proba(X).shape == (6, 2)


def test_module_instance_is_deep_copied(three_classes_200x8):
    X, y = three_classes_200x8
    module = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    before = {name: value.clone() for name, value in module.state_dict().items()}
    clf = PDiffClassifier(module, **THREE_EPOCHS).fit(X, y)
    assert clf.net_.module_ is not module
    after = module.state_dict()
    assert all(torch.equal(before[name], after[name]) for name in before)
    trained = clf.net_.module_.state_dict()
    assert not all(torch.equal(before[name], trained[name].cpu()) for name in before)


def test_module_callable_is_called_with_features_and_classes(three_classes_200x8):
    X, y = three_classes_200x8
    calls = []

    def build(n_features, n_classes):
        calls.append((n_features, n_classes))
        return small_mlp(n_features, n_classes)

    clf = PDiffClassifier(build, **THREE_EPOCHS).fit(X, y)
    # Once for each held-out probe that estimates the noise rate, then for the network.
    assert calls == [(8, 3)] * (clf.probe_folds + 1)
    assert clf.net_.module_.layers[0].out_features == 16


def test_module_class_is_used_as_callable(three_classes_200x8):
    X, y = three_classes_200x8
    clf = PDiffClassifier(MLP, **THREE_EPOCHS).fit(X, y)
    assert type(clf.net_.module_) is MLP
    assert clf.net_.module_.layers[0].in_features == 8


def test_module_callable_returning_non_module_raises(three_classes_200x8):
    X, y = three_classes_200x8
    clf = PDiffClassifier(lambda n_features, n_classes: "an MLP", **THREE_EPOCHS)
    with pytest.raises(TypeError, match=r"must return a torch\.nn\.Module, got str"):
        clf.fit(X, y)


def test_module_of_wrong_type_raises(three_classes_200x8):
    X, y = three_classes_200x8
    with pytest.raises(TypeError, match="module must be None or a torch.nn.Module or a callable"):
        PDiffClassifier("mlp", **THREE_EPOCHS).fit(X, y)


def test_default_module_rejects_3d_input(three_classes_200x8):
    X, y = three_classes_200x8
    with pytest.raises(ValueError, match=r"X has 3 dimensions.*2-D.*4-D"):
        PDiffClassifier(**THREE_EPOCHS).fit(X.reshape(200, 2, 4), y)


def test_user_module_takes_3d_input(three_classes_200x8):
    X, y = three_classes_200x8
    X3 = X.reshape(200, 2, 4)
    module = nn.Sequential(nn.Flatten(), nn.Linear(8, 3))
    clf = PDiffClassifier(module, **THREE_EPOCHS).fit(X3, y)
    assert clf.n_features_in_ == 2
    proba = clf.predict_proba(X3)
    assert proba.shape == (200, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    with pytest.raises(ValueError, match=r"fitted on samples of shape \(2, 4\)"):
        clf.predict(X.reshape(400, 2, 2))


def test_default_cnn_rejects_images_smaller_than_28_pixels():
    X = np.zeros((4, 1, 16, 16), dtype=np.float32)
    with pytest.raises(ValueError, match="28"):
        PDiffClassifier(max_epochs=1, random_state=0, device="cpu").fit(X, [0, 1, 0, 1])


# Fitted attributes --------------------------------------------------------------------------------


def test_fitted_attributes(fitted):
    np.testing.assert_array_equal(fitted.classes_, [0, 1, 2])
    assert fitted.n_features_in_ == 8
    assert not hasattr(fitted, "feature_names_in_")
    assert fitted.window_ == math.ceil(200 / 32)
    assert fitted.history_ is fitted.net_.history


def test_history_has_one_row_per_epoch_with_diagnostics(fitted):
    history = fitted.history_
    assert len(history) == THREE_EPOCHS["max_epochs"]
    for row in history:
        assert HISTORY_KEYS <= row.keys()
        assert isinstance(row["weighting"], bool)
        assert -1.1 <= row["delta_threshold"] <= 1.1
        assert 0 <= row["saturation"] <= 1.1
        assert 0 < row["kept_fraction"] <= 1
        assert np.isfinite(row["train_loss"])


def test_noise_rate_auto_estimate_is_a_rate(fitted):
    assert isinstance(fitted.noise_rate_, float)
    assert 0 <= fitted.noise_rate_ < 1
    assert all(0 <= rate < 1 for rate in fitted.history_[:, "drop_rate"])


@pytest.mark.parametrize("t_k", [0, 4])
def test_noise_rate_float_follows_the_ramp(three_classes_200x8, t_k):
    X, y = three_classes_200x8
    clf = PDiffClassifier(noise_rate=0.4, t_k=t_k, **THREE_EPOCHS).fit(X, y)
    # Epoch e (0-based) trains with e completed epochs.
    expected = [0.4 * (1.0 if t_k == 0 else min(1.0, e / t_k)) for e in range(3)]
    assert clf.history_[:, "drop_rate"] == pytest.approx(expected, rel=1e-12)
    assert clf.noise_rate_ == 0.4  # the given rate, whether the ramp ended or not


def test_noise_rate_zero_keeps_every_sample(three_classes_200x8):
    X, y = three_classes_200x8
    clf = PDiffClassifier(noise_rate=0.0, **THREE_EPOCHS).fit(X, y)
    assert clf.noise_rate_ == 0.0
    assert clf.history_[:, "kept_fraction"] == [1.0] * 3
    assert clf.history_[:, "drop_rate"] == [0.0] * 3


def test_noise_rate_drops_about_that_share(three_classes_200x8):
    X, y = three_classes_200x8
    y_noisy = make_noisy_labels(y, 0.3, random_state=0)
    clf = PDiffClassifier(noise_rate=0.3, t_k=0, **THREE_EPOCHS).fit(X, y_noisy)
    assert clf.history_[-1, "weighting"]
    # Bin-granular threshold: the crossing bin is kept, so slightly more than 70% stays.
    assert 0.55 < clf.history_[-1, "kept_fraction"] < 0.85


@pytest.mark.parametrize(
    "n_samples, batch_size, window, expected",
    [(100, 32, 100, 4), (100, 32, 2, 2), (100, 500, 100, 1), (96, 32, 100, 3)],
)
def test_window_is_capped_at_one_epoch_of_batches(n_samples, batch_size, window, expected):
    X, y = make_classification(n_samples=n_samples, n_features=4, random_state=0)
    clf = PDiffClassifier(
        small_mlp, **{**THREE_EPOCHS, "window": window, "batch_size": batch_size, "max_epochs": 1}
    ).fit(X, y)
    assert clf.window_ == expected


def test_window_is_capped_at_an_epoch_of_the_rows_left_for_training():
    X, y = make_classification(n_samples=100, n_features=4, random_state=0)
    params = {**THREE_EPOCHS, "window": 100, "batch_size": 10, "max_epochs": 1}
    clf = PDiffClassifier(small_mlp, validation_fraction=0.5, **params).fit(X, y)
    assert clf.window_ == 5  # 50 training rows in batches of 10, not the 100 rows' 10 batches


# Behaviour ----------------------------------------------------------------------------------------


def test_string_labels(three_classes_200x8):
    X, y = three_classes_200x8
    names = np.array(["cat", "ant", "bee"])
    clf = PDiffClassifier(small_mlp, **ACCURATE).fit(X, names[y])
    np.testing.assert_array_equal(clf.classes_, ["ant", "bee", "cat"])
    pred = clf.predict(X)
    assert pred.dtype == clf.classes_.dtype
    assert (pred == names[y]).mean() > 0.8


def test_non_contiguous_integer_labels(three_classes_200x8):
    X, y = three_classes_200x8
    labels = np.array([11, 3, 7])[y]
    clf = PDiffClassifier(small_mlp, **ACCURATE).fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, [3, 7, 11])
    pred = clf.predict(X)
    assert set(np.unique(pred)) <= {3, 7, 11}
    assert (pred == labels).mean() > 0.8


def test_predict_proba_rows_sum_to_one_and_columns_follow_classes(three_classes_200x8):
    X, y = three_classes_200x8
    names = np.array(["c", "b", "a"])[y]  # label order differs from the index order
    clf = PDiffClassifier(small_mlp, **ACCURATE).fit(X, names)
    proba = clf.predict_proba(X)
    assert proba.shape == (200, 3)
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    for k, label in enumerate(clf.classes_):
        mean = proba[names == label].mean(axis=0)
        assert mean.argmax() == k
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])


def test_predict_proba_is_the_softmax_of_the_network_s_logits_in_row_order(
    fitted, three_classes_200x8
):
    X, _ = three_classes_200x8  # 200 rows: 7 batches of 32, the last one short
    logits = fitted.net_.forward(X)
    expected = torch.softmax(logits, dim=1).numpy()
    np.testing.assert_array_equal(fitted.predict_proba(X), expected)


def fit_under_global_seed(global_seed, X, y, **params):
    """Fit with the global torch generator in a chosen state, restored afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(global_seed)
        return PDiffClassifier(**params).fit(X, y)


def test_same_random_state_gives_identical_predictions(three_classes_200x8):
    X, y = three_classes_200x8
    first = fit_under_global_seed(1, X, y, **THREE_EPOCHS)
    second = fit_under_global_seed(2, X, y, **THREE_EPOCHS)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert first.history_[:, "train_loss"] == second.history_[:, "train_loss"]


def test_random_state_instance_is_accepted(three_classes_200x8):
    X, y = three_classes_200x8
    params = {**THREE_EPOCHS, "max_epochs": 1}
    first = fit_under_global_seed(1, X, y, **{**params, "random_state": np.random.RandomState(1)})
    second = fit_under_global_seed(2, X, y, **{**params, "random_state": np.random.RandomState(1)})
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))


def test_different_random_state_gives_different_predictions(three_classes_200x8):
    X, y = three_classes_200x8
    first = fit_under_global_seed(1, X, y, **THREE_EPOCHS)
    other = fit_under_global_seed(1, X, y, **{**THREE_EPOCHS, "random_state": 1})
    assert not np.allclose(other.predict_proba(X), first.predict_proba(X))


def test_fit_leaves_global_rng_state_unchanged(three_classes_200x8):
    X, y = three_classes_200x8
    torch_state = torch.get_rng_state()
    # The legacy global generator is the one random_state=None would draw from.
    numpy_state = np.random.get_state()[1].copy()  # noqa: NPY002
    PDiffClassifier(**{**THREE_EPOCHS, "max_epochs": 1}).fit(X, y)
    assert torch.equal(torch.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state)  # noqa: NPY002


def test_clone_is_unfitted_and_independent(fitted, three_classes_200x8):
    X, y = three_classes_200x8
    proba = fitted.predict_proba(X)
    copy = clone(fitted)
    with pytest.raises(NotFittedError):
        check_is_fitted(copy)
    assert copy.get_params() == fitted.get_params()
    copy.set_params(noise_rate=0.0, random_state=5).fit(X, y)
    assert fitted.noise_rate == "auto" and fitted.random_state == 0
    np.testing.assert_array_equal(fitted.predict_proba(X), proba)
    assert copy.net_ is not fitted.net_


def test_clone_deep_copies_a_module_instance():
    module = nn.Linear(4, 2)
    copy = clone(PDiffClassifier(module))
    assert copy.module is not module
    assert torch.equal(copy.module.weight, module.weight)


def test_pickle_round_trip(fitted, three_classes_200x8):
    X, _ = three_classes_200x8
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(restored.classes_, fitted.classes_)
    assert (restored.noise_rate_, restored.window_) == (fitted.noise_rate_, fitted.window_)


def test_pickle_round_trip_unfitted():
    clf = pickle.loads(pickle.dumps(PDiffClassifier(noise_rate=0.2, lr=0.01)))
    assert (clf.noise_rate, clf.lr) == (0.2, 0.01)
    assert not hasattr(clf, "net_")


def test_pandas_input(three_classes_200x8):
    X, y = three_classes_200x8
    columns = [f"f{i}" for i in range(8)]
    frame = pd.DataFrame(X, columns=columns)
    labels = pd.Series(np.array(["x", "y", "z"])[y])
    clf = PDiffClassifier(**THREE_EPOCHS).fit(frame, labels)
    np.testing.assert_array_equal(clf.feature_names_in_, columns)
    assert clf.n_features_in_ == 8
    pred = clf.predict(frame)
    assert pred.shape == (200,)
    assert set(pred) <= {"x", "y", "z"}
    np.testing.assert_array_equal(
        clf.predict_proba(frame), PDiffClassifier(**THREE_EPOCHS).fit(X, labels).predict_proba(X)
    )


def test_device_spellings_for_the_cpu(three_classes_200x8):
    X, y = three_classes_200x8
    expected = None
    for device in ["cpu", torch.device("cpu")] + ([] if CUDA else ["auto"]):
        clf = PDiffClassifier(**{**THREE_EPOCHS, "max_epochs": 1, "device": device}).fit(X, y)
        assert next(clf.net_.module_.parameters()).device.type == "cpu"
        proba = clf.predict_proba(X)
        if expected is None:
            expected = proba
        np.testing.assert_array_equal(proba, expected)


# scikit-learn integration -------------------------------------------------------------------------


def test_pipeline_applies_the_scaler(three_classes_200x8):
    X, y = three_classes_200x8
    pipe = make_pipeline(StandardScaler(), PDiffClassifier(**THREE_EPOCHS)).fit(X, y)
    scaler = StandardScaler().fit(X)
    alone = PDiffClassifier(**THREE_EPOCHS).fit(scaler.transform(X), y)
    np.testing.assert_array_equal(pipe.predict_proba(X), alone.predict_proba(scaler.transform(X)))
    assert pipe.score(X, y) > 0.5


@pytest.mark.parametrize("param, grid", [("noise_rate", [0.0, 0.3]), ("lr", [1e-3, 1e-2])])
def test_grid_search(three_classes_200x8, param, grid):
    X, y = three_classes_200x8
    search = GridSearchCV(
        PDiffClassifier(small_mlp, **{**THREE_EPOCHS, "max_epochs": 2}),
        {param: grid},
        cv=2,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    assert search.best_params_[param] in grid
    assert getattr(search.best_estimator_, param) == search.best_params_[param]
    assert search.predict(X).shape == (200,)


def test_cross_val_predict_proba(three_classes_200x8):
    X, y = three_classes_200x8
    proba = cross_val_predict(
        PDiffClassifier(small_mlp, **THREE_EPOCHS), X, y, cv=2, method="predict_proba"
    )
    assert proba.shape == (200, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)


# sample_weight ------------------------------------------------------------------------------------


def test_fit_signature_names_sample_weight():
    assert has_fit_parameter(PDiffClassifier(), "sample_weight")


def test_unit_sample_weight_equals_none(fitted, three_classes_200x8):
    X, y = three_classes_200x8
    weighted = PDiffClassifier(**THREE_EPOCHS).fit(X, y, sample_weight=np.ones(200))
    np.testing.assert_array_equal(weighted.predict_proba(X), fitted.predict_proba(X))


def test_sample_weight_shifts_predictions_towards_heavy_class():
    X, y = make_classification(
        n_samples=200,
        n_features=8,
        n_informative=5,
        n_redundant=0,
        n_classes=3,
        class_sep=0.5,
        random_state=0,
    )
    params = {**THREE_EPOCHS, "max_epochs": 5, "lr": 1e-2}
    plain = PDiffClassifier(small_mlp, **params).fit(X, y)
    heavy = PDiffClassifier(small_mlp, **params).fit(X, y, sample_weight=np.where(y == 0, 10, 1))
    assert heavy.predict_proba(X)[:, 0].mean() > plain.predict_proba(X)[:, 0].mean() + 0.2
    assert (heavy.predict(X) == 0).mean() > (plain.predict(X) == 0).mean() + 0.2


@pytest.mark.parametrize(
    "make_weight, match",
    [
        (lambda y: np.ones(len(y) - 1), r"sample_weight must have shape \(200,\).*got \(199,\)"),
        (lambda y: -np.ones(len(y)), "sample_weight must be non-negative"),
        (lambda y: np.ones((len(y), 2)), r"sample_weight must have shape \(200,\).*\(200, 2\)"),
        (lambda y: np.zeros(len(y)), "sample_weight must not be all zero"),
        (lambda y: (y == 1).astype(float), "at least 2 classes with positive sample weight"),
        (lambda y: np.where(y == 0, np.nan, 1.0), "sample_weight contains NaN"),
    ],
    ids=["length", "negative", "2-D", "all-zero", "single-class", "nan"],
)
def test_bad_sample_weight_raises(three_classes_200x8, make_weight, match):
    X, y = three_classes_200x8
    with pytest.raises(ValueError, match=match):
        PDiffClassifier(**THREE_EPOCHS).fit(X, y, sample_weight=make_weight(y))


# Bad input ----------------------------------------------------------------------------------------


def _with(X, index, value):
    X = X.copy()
    X[index] = value
    return X


@pytest.mark.parametrize(
    "make_data, match",
    [
        (lambda X, y: (_with(X, (0, 0), np.nan), y), "Input X contains NaN"),
        (lambda X, y: (_with(X, (3, 1), np.inf), y), "Input X contains infinity"),
        (lambda X, y: (X[:, 0], y), "Expected 2D array, got 1D array"),
        (lambda X, y: (X, y[:-1]), r"inconsistent numbers of samples: \[200, 199\]"),
        (lambda X, y: (X, np.zeros_like(y)), r"at least 2 classes.*got 1 class"),
        (lambda X, y: (X, X[:, 0]), "Unknown label type: continuous"),
    ],
    ids=["nan", "inf", "1-D", "length-mismatch", "single-class", "continuous-y"],
)
def test_bad_data_raises(three_classes_200x8, make_data, match):
    X, y = make_data(*three_classes_200x8)
    with pytest.raises(ValueError, match=match):
        PDiffClassifier(**THREE_EPOCHS).fit(X, y)


BAD_HYPERPARAMETERS = [
    ({"noise_rate": -0.1}, ValueError, r"noise_rate must be in \[0, 1\), got -0\.1"),
    ({"noise_rate": 1.0}, ValueError, r"noise_rate must be in \[0, 1\), got 1\.0"),
    ({"noise_rate": 1.5}, ValueError, r"noise_rate must be in \[0, 1\), got 1\.5"),
    ({"noise_rate": "half"}, ValueError, r"noise_rate must be 'auto' or a float.*'half'"),
    (
        {"noise_rate": True},
        TypeError,
        r"noise_rate must be 'auto' or a float in \[0, 1\), got True of type bool",
    ),
    ({"device": "gpu"}, ValueError, r"device must be 'auto', 'cpu', 'cuda'.*got 'gpu'"),
    ({"device": "tpu"}, ValueError, r"device must be 'auto', 'cpu', 'cuda'.*got 'tpu'"),
    ({"device": "meta"}, ValueError, "device must be a CPU or CUDA device, got 'meta'"),
    ({"max_epochs": 2.0}, TypeError, "max_epochs must be an integer, got 2.0 of type float"),
    ({"batch_size": "32"}, TypeError, "batch_size must be an integer, got '32' of type str"),
    ({"window": 1.5}, TypeError, "window must be an integer, got 1.5 of type float"),
    ({"max_epochs": 0}, ValueError, r"max_epochs must be in \[1, inf\], got 0"),
    ({"t_k": -1}, ValueError, r"t_k must be in \[0, inf\], got -1"),
    ({"lr": -1e-3}, ValueError, r"lr must be in \(0, inf\], got -0\.001"),
    ({"lr": 0.0}, ValueError, r"lr must be in \(0, inf\], got 0\.0"),
    ({"zeta": 0.0}, ValueError, r"zeta must be in \(0, 1\], got 0\.0"),
    ({"zeta": 1.5}, ValueError, r"zeta must be in \(0, 1\], got 1\.5"),
    ({"weight_decay": -1.0}, ValueError, r"weight_decay must be in \[0, inf\], got -1\.0"),
    ({"optimizer": "adam"}, TypeError, "optimizer must be a torch optimizer class"),
    ({"precision": "fp16"}, ValueError, r"precision must be one of \[.*\], got 'fp16'"),
    ({"precision": torch.bfloat16}, ValueError, "precision must be one of"),
    ({"num_workers": -1}, ValueError, r"num_workers must be in \[0, inf\], got -1"),
    ({"num_workers": 1.0}, TypeError, "num_workers must be an integer, got 1.0 of type float"),
    ({"pin_memory": 1}, TypeError, "pin_memory must be True or False, got 1"),
    ({"retrain": 0.5}, ValueError, r"retrain must be in \[1, inf\], got 0\.5"),
    ({"retrain": "yes"}, ValueError, r"retrain must be None, 'auto' or a float in \[1, inf\]"),
    (
        {"accelerator": "cuda"},
        TypeError,
        "accelerator must be None or an accelerate.Accelerator, got 'cuda' of type str",
    ),
]


@pytest.mark.parametrize(
    "params, error, match",
    BAD_HYPERPARAMETERS,
    ids=["-".join(f"{k}={v!r}" for k, v in params.items()) for params, _, _ in BAD_HYPERPARAMETERS],
)
def test_bad_hyperparameters_raise_in_fit(three_classes_200x8, params, error, match):
    X, y = three_classes_200x8
    clf = PDiffClassifier(**{**THREE_EPOCHS, **params})
    with pytest.raises(error, match=match):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")


@pytest.mark.skipif(CUDA, reason="CUDA is available here")
@pytest.mark.parametrize("device", ["cuda", "cuda:0", torch.device("cuda")])
def test_cuda_device_without_cuda_raises(three_classes_200x8, device):
    X, y = three_classes_200x8
    with pytest.raises(ValueError, match=r"device=.*cuda.* but CUDA is not available"):
        PDiffClassifier(**{**THREE_EPOCHS, "device": device}).fit(X, y)


def test_predict_before_fit_raises(three_classes_200x8):
    X, _ = three_classes_200x8
    clf = PDiffClassifier()
    for method in (clf.predict, clf.predict_proba):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            method(X)


def test_predict_with_wrong_number_of_features_raises(fitted, three_classes_200x8):
    X, _ = three_classes_200x8
    with pytest.raises(ValueError, match="X has 5 features, but PDiffClassifier is expecting 8"):
        fitted.predict(X[:, :5])


def test_predict_images_of_wrong_size_raises(fitted_images):
    with pytest.raises(ValueError, match=r"shape \(2, 1, 30, 30\).*\(1, 28, 28\)"):
        fitted_images.predict(np.zeros((2, 1, 30, 30), dtype=np.float32))
    with pytest.raises(ValueError, match="X has 3 features, but PDiffClassifier is expecting 1"):
        fitted_images.predict_proba(np.zeros((2, 3, 28, 28), dtype=np.float32))


# GPU ----------------------------------------------------------------------------------------------


@needs_cuda
def test_fit_and_predict_on_cuda(three_classes_200x8):
    X, y = three_classes_200x8
    clf = PDiffClassifier(**{**THREE_EPOCHS, "device": "cuda"}).fit(X, y)
    assert next(clf.net_.module_.parameters()).device.type == "cuda"
    proba = clf.predict_proba(X)
    assert isinstance(proba, np.ndarray)
    assert proba.shape == (200, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert set(clf.predict(X)) <= {0, 1, 2}
    assert 0 <= clf.noise_rate_ < 1


@needs_cuda
def test_auto_device_picks_cuda(three_classes_200x8):
    X, y = three_classes_200x8
    clf = PDiffClassifier(**{**THREE_EPOCHS, "device": "auto", "max_epochs": 1}).fit(X, y)
    assert next(clf.net_.module_.parameters()).device.type == "cuda"


@needs_cuda
def test_cpu_fit_leaves_cuda_rng_state_unchanged(three_classes_200x8):
    X, y = three_classes_200x8
    cuda_state = torch.cuda.get_rng_state()
    PDiffClassifier(**{**THREE_EPOCHS, "max_epochs": 1}).fit(X, y)
    assert torch.equal(torch.cuda.get_rng_state(), cuda_state)
