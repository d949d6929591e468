"""The benchmark scripts: a smoke run of the suite (benchmarks/accuracy/run.py), and their parts.

Only these tests import ``benchmarks``: the package's own tests don't depend on it.
"""

import csv
import io
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from fake_images import CIFAR_CLASSES, fake_cifar, jpeg_bytes, pixels
from sklearn.datasets import load_digits

from benchmarks import common
from benchmarks.accuracy import (
    cells,
    datalab_vs_label,
    label_issues,
    networks,
    render,
    results,
    run,
    suites,
)
from benchmarks.accuracy.methods import METHODS, run_method
from benchmarks.accuracy.protocol import EpochTestAccuracy, Fit, NoisyData, Schedule
from benchmarks.accuracy.rivals import GCELoss
from benchmarks.cost import large_data, overhead, steps
from benchmarks.data import cifar, image_folder, kmeans
from cleanlab_pdiff import CNN9, MLP, PDiffClassifier, make_noisy_labels
from cleanlab_pdiff.images import ImageFolder

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def cell():
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    y_noisy = make_noisy_labels(y[:400], 0.3, random_state=0)
    return NoisyData(X[:400], y_noisy, y[:400], X[400:600], y[400:600], MLP, 10)


@pytest.mark.slow
def test_smoke_suite_runs_every_method_and_writes_csv_page_and_figures(tmp_path):
    run.main(["--suite", "smoke", "--out", str(tmp_path), "--jobs", "1", "--no-progress"])
    with (tmp_path / "benchmarks_smoke.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(row["method"] for row in rows) == sorted(suites.SYNTHETIC_METHODS)
    for row in rows:
        assert 0 <= float(row["acc_last10"]) <= 1 and 0 <= float(row["acc_final"]) <= 1
        assert float(row["fit_seconds"]) > 0
        if sys.platform.startswith("linux"):  # peak RSS is read from /proc
            assert float(row["peak_rss_mb"]) > 0
        assert float(row["actual_noise_rate"]) == pytest.approx(0.5, abs=1e-3)
    estimated = {
        row["method"] for row in rows if not math.isnan(float(row["estimated_noise_rate"]))
    }
    assert estimated == {"cleanlearning", "pdiff_auto", "pdiff_per_class"}
    page = (tmp_path / "benchmarks_smoke.md").read_text()
    assert "<!-- BEGIN SMOKE -->" in page and "| P-DIFF auto (the default) |" in page
    assert (tmp_path / "benchmarks_smoke_accuracy.png").stat().st_size > 0
    assert (tmp_path / "benchmarks_smoke_delta.png").stat().st_size > 0


def test_every_method_gives_accuracies_for_the_last_epochs(cell):
    schedule = Schedule(epochs=3, t_k=1, batch_size=128, lr=1e-3, cv_folds=2, last=2)
    for key in METHODS:
        result = run_method(key, Fit(cell, schedule, 0, "cpu"))
        if key == "cv_recipe":  # it trains no final model: it only flags label issues
            assert math.isnan(result["acc_last"])
        else:
            assert 0 <= result["acc_last"] <= 1, key
        assert result["fit_seconds"] > 0, key
        if result["issues"] is not None:  # one verdict per training row (the oracle's: fewer)
            assert result["issues"].ndim == 1 and result["issues"].shape == result["quality"].shape


def test_test_accuracy_callback_leaves_pdiff_training_unchanged(cell):
    tester = EpochTestAccuracy(cell.X_test, cell.y_test, last=3)
    kwargs = {"noise_rate": 0.3, "t_k": 1, "max_epochs": 4, "random_state": 0}
    plain = PDiffClassifier(**kwargs).fit(cell.X, cell.y_noisy)
    watched = PDiffClassifier(callbacks=[tester], **kwargs).fit(cell.X, cell.y_noisy)
    np.testing.assert_array_equal(
        plain.predict_proba(cell.X_test), watched.predict_proba(cell.X_test)
    )
    assert tester.epochs_ == [2, 3, 4]
    assert tester.accuracies_[-1] == np.mean(watched.predict(cell.X_test) == cell.y_test)


def test_a_retrained_model_is_scored_as_the_model_the_classifier_keeps(cell):
    # The always-retrained method: its model averages networks trained after the run.
    schedule = Schedule(epochs=3, t_k=1, batch_size=128, lr=1e-3, cv_folds=2, last=2)
    result = run_method("pdiff_retrain", Fit(cell, schedule, 0, "cpu", record=True))
    clf = result["model"]
    assert clf.retrained_on_ is not None
    accuracy = np.mean(clf.predict(cell.X_test) == cell.y_test)
    assert result["acc_last"] == result["acc_final"] == accuracy


def test_test_accuracy_callback_evaluates_an_early_stopped_training_once_at_its_end(cell):
    tester = EpochTestAccuracy(cell.X_test, cell.y_test, last=3)
    kwargs = {"noise_rate": 0.0, "max_epochs": 50, "early_stopping": 2, "random_state": 0}
    clf = PDiffClassifier(callbacks=[tester], **kwargs).fit(cell.X, cell.y_noisy)
    assert len(clf.history_) < 47  # stopped before the last 3 epochs
    assert tester.epochs_ == [len(clf.history_)]
    assert tester.accuracies_ == [np.mean(clf.predict(cell.X_test) == cell.y_test)]


def test_same_seed_same_initial_network_across_methods(cell):
    schedule = Schedule(epochs=1, t_k=1, batch_size=128, lr=1e-12, last=1)
    # With lr=1e-12 the weights stay as initialised: every method must predict alike.
    results = {
        key: run_method(key, Fit(cell, schedule, 3, "cpu"))["acc_last"]
        for key in ("ce", "gce", "coteaching")
    }
    assert len(set(results.values())) == 1, results


def test_gce_loss_limits():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    labels = torch.tensor([0, 2])
    p = torch.softmax(logits, dim=1)[[0, 1], labels]
    torch.testing.assert_close(GCELoss(q=1.0)(logits, labels), (1 - p).mean())
    torch.testing.assert_close(
        GCELoss(q=1e-4)(logits, labels), -p.log().mean(), rtol=1e-3, atol=1e-3
    )


def test_schedule_optimizers_and_lr_steps():
    schedule = Schedule(epochs=4, t_k=1, batch_size=8, lr=0.1, optimizer="sgd", milestones=(2,))
    optimizer = schedule.optimizer_class()([torch.zeros(1, requires_grad=True)], lr=0.1)
    assert isinstance(optimizer, torch.optim.SGD) and optimizer.defaults["momentum"] == 0.9
    assert [name for name, _ in schedule.lr_callbacks()] == ["lr_steps"]
    assert Schedule(epochs=1, t_k=1, batch_size=8, lr=0.1).lr_callbacks() == []
    with pytest.raises(ValueError, match="optimizer must be 'adam' or 'sgd'"):
        Schedule(epochs=1, t_k=1, batch_size=8, lr=0.1, optimizer="rmsprop").optimizer_class()


@pytest.mark.parametrize("human", [False, True])
def test_asymmetric_cells_flip_exactly_the_rate_between_confusable_classes(human):
    y = np.repeat(np.arange(10), 50)
    data = {"y": y, "human": {"worse": y} if human else {}}
    y_noisy = cells.noisy_labels(data, suites.Noise("asymmetric", 0.2), seed=0)
    pairs = cells.CIFAR_PAIRS if human else cells.DIGIT_PAIRS
    assert (y_noisy != y).sum() == 100
    assert set(zip(y[y_noisy != y].tolist(), y_noisy[y_noisy != y].tolist(), strict=True)) <= set(
        pairs.items()
    )


def test_small_cnn_is_a_narrow_cnn9():
    def size(module):
        return sum(p.numel() for p in module.parameters())

    convolutions = networks.small_cnn(3, 10).modules()
    channels = [m.out_channels for m in convolutions if isinstance(m, torch.nn.Conv2d)]
    assert channels == [16, 16, 16, 32, 32, 32, 64, 32, 16]
    assert size(networks.small_cnn(3, 10)) < size(CNN9(3, 10)) / 50
    out = networks.small_cnn(3, 10, width=8, padded=True).train()(torch.zeros(2, 3, 16, 16))
    assert out.shape == (2, 10)


def test_random_flip_flips_only_in_training():
    images = torch.arange(8.0).reshape(1, 1, 1, 8).repeat(64, 1, 1, 1)
    flip = networks.RandomFlip(torch.nn.Identity())
    torch.manual_seed(0)
    trained = flip.train()(images)
    flipped = (trained == images.flip(-1)).all(dim=(1, 2, 3))
    assert 10 < int(flipped.sum()) < 54
    assert (trained[~flipped] == images[~flipped]).all()
    assert (flip.eval()(images) == images).all()


def test_comparison_counts_ties_as_wins():
    rows = [
        {"dataset": "d", "noise": n, "method": m, "acc_last10": a}
        for n, scores in {"a": (0.9, 0.8, 0.9), "b": (0.5, 0.6, 0.5)}.items()
        for m, a in zip(("pdiff_auto", "coteaching", "cleanlearning"), scores, strict=True)
    ]
    result = results.comparison(rows)
    assert result["pdiff_auto", "coteaching"] == (1, 2, [("d", "b", 0.5, 0.6)])
    assert result["pdiff_auto", "cleanlearning"] == (2, 2, [])


def test_option_effects_compare_each_option_with_pdiff_auto():
    rows = [
        {"dataset": "d", "noise": "a", "method": m, "acc_last10": a}
        for m, a in (("pdiff_auto", 0.5), ("pdiff_per_class", 0.75), ("ce", 0.9))
    ]
    assert results.option_effects(rows) == {"pdiff_per_class": [("d", "a", 0.25)]}
    assert [key for key, method in METHODS.items() if method.option] == ["pdiff_per_class"]


DATA = cifar.default_data_dir()


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / cifar.ARCHIVE).exists(), reason="no CIFAR-10 files here")
def test_cifar_subset_is_balanced_aligned_and_cached(tmp_path):
    # Reads the whole archive (about 2 s on an idle core) for 30 images.
    data = cifar.load_cifar10n(20, 10, size=16, cache_dir=tmp_path)
    assert data["X_train"].shape == (20, 3, 16, 16) and data["X_test"].shape == (10, 3, 16, 16)
    assert np.bincount(data["y_train"]).tolist() == [2] * 10
    assert np.bincount(data["y_test"]).tolist() == [1] * 10
    labels = cifar.read_human_labels(DATA / cifar.LABEL_FILE)
    np.testing.assert_array_equal(data["y_train"], labels["clean_label"][data["index"]])
    np.testing.assert_array_equal(data["noisy"]["worse"], labels["worse_label"][data["index"]])
    again = cifar.load_cifar10n(20, 10, size=16, cache_dir=tmp_path)
    np.testing.assert_array_equal(again["X_train"], data["X_train"])
    assert len(list(tmp_path.glob("*.npz"))) == 1


def test_kmeans_features_are_seeded_and_standardised():
    images = np.random.default_rng(0).random((12, 3, 10, 10), dtype=np.float32)
    first = kmeans.kmeans_features(images, images[:3], n_centroids=4, n_patches=300)
    second = kmeans.kmeans_features(images, images[:3], n_centroids=4, n_patches=300)
    np.testing.assert_array_equal(first[0], second[0])
    assert first[0].shape == (12, 16) and first[1].shape == (3, 16)
    np.testing.assert_allclose(first[0].mean(axis=0), 0, atol=1e-4)


@pytest.mark.slow
def test_every_method_trains_a_cnn_on_images_with_sgd_and_lr_steps():
    # The full suite's path (4-D images, the CNN behind RandomFlip, SGD, x0.1 lr steps), tiny.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3, 28, 28), dtype=np.float32)
    y = np.repeat(np.arange(3), 20)
    data = NoisyData(
        X,
        make_noisy_labels(y, 0.2, random_state=0),
        y,
        X[:12],
        y[:12],
        lambda c, k: networks.small_cnn(c, k, width=4),
        3,
    )
    schedule = Schedule(
        epochs=2,
        t_k=1,
        batch_size=16,
        lr=0.01,
        optimizer="sgd",
        weight_decay=5e-4,
        milestones=(1,),
        cv_folds=2,
        last=2,
    )
    for key in METHODS:
        result = run_method(key, Fit(data, schedule, 0, "cpu"))
        if key == "cv_recipe":  # finds issues with K-fold probes, trains no final model
            assert np.isnan(result["acc_final"])
            assert result["quality"].shape == result["issues"].shape == (60,)
        else:
            assert 0 <= result["acc_final"] <= 1, key
    result = run_method("pdiff_auto", Fit(data, schedule, 0, "cpu", record=True))
    optimizer = result["model"].net_.optimizer_
    assert isinstance(optimizer, torch.optim.SGD)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.001)
    assert optimizer.param_groups[0]["weight_decay"] == 5e-4


def test_overhead_table_gives_ratios_to_both_skorch_baselines():
    seconds = {"skorch": 2.0, "skorch, batch loading": 1.6, "P-DIFF auto": 1.8, "P-DIFF 0.3": 2.4}
    rows = [
        {
            "case": "MLP, 100k x 128",
            "n_samples": 10,
            "method": method,
            "round": round_,
            "epoch_seconds": value * (1 + round_),
        }
        for round_ in range(2)
        for method, value in seconds.items()
    ]
    table = overhead.render(rows, device="cpu", command="c", threads=1).splitlines()
    auto = next(line for line in table if "| P-DIFF auto |" in line)
    cells = [cell.strip() for cell in auto.strip("|").split("|")]
    assert cells[3:] == ["2.700", "0.900 (0.900-0.900)", "1.125 (1.125-1.125)"]
    # A case that did not run (e.g. no rows for it) is left out, not rendered empty.
    assert not any("batch 1024" in line for line in table)


def test_median_range_and_select():
    assert common.median_range([0.5, 0.75, 0.25], 2) == "0.50 (0.25–0.75)"
    assert common.median_range([0.5, math.nan, 0.25], 2) == "0.38 (0.25–0.50)"
    assert common.median_range([math.nan]) == common.median_range([]) == "n/a"
    rows = [{"a": 1, "b": 2}, {"a": 1, "b": 3}, {"a": 2, "b": 3}]
    assert common.select(rows, a=1) == rows[:2] and common.select(rows, a=1, b=3) == [rows[1]]


def test_write_csv_writes_every_field_in_order_and_leaves_out_the_rest(tmp_path):
    rows = [{"b": 2, "a": 1, "model": object()}, {"a": 3, "b": 4, "model": None}]
    path = tmp_path / "new" / "rows.csv"
    common.write_csv(rows, path, ("a", "b"))
    assert path.read_text().splitlines() == ["a,b", "1,2", "3,4"]
    fields = run.FIELDS
    common.write_csv([dict.fromkeys(fields, 0)], path, fields)
    with path.open() as handle:
        assert tuple(csv.DictReader(handle).fieldnames) == fields


def test_write_section_replaces_only_its_own_markers(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# T\n\n<!-- BEGIN A -->\nold\n<!-- END A -->\n\nkept\n")
    common.write_section(page, "new\n", title="T", key="A")
    common.write_section(page, "b", title="T", key="B")
    assert page.read_text() == (
        "# T\n\n<!-- BEGIN A -->\nnew\n<!-- END A -->\n\nkept\n\n"
        "<!-- BEGIN B -->\nb\n<!-- END B -->\n"
    )


def test_results_page_has_one_marker_pair_per_suite_that_writes_it():
    text = (Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md").read_text()
    for suite in suites.SUITES:
        if suite != "smoke":  # the smoke suite writes its own page under --out
            key = suite.upper()
            assert text.count(f"<!-- BEGIN {key} -->") == 1, key
            assert text.count(f"<!-- END {key} -->") == 1, key
            assert text.index(f"<!-- BEGIN {key} -->") < text.index(f"<!-- END {key} -->")


@pytest.mark.parametrize("suite", ["quick", "full"])
def test_tabular_descriptions_give_the_split_sizes(suite, monkeypatch):
    if suite == "full":  # the sizes alone: balanced stand-ins for 10,000 MNIST-1D signals
        monkeypatch.setattr(cells, "load_mnist1d", lambda n: (np.zeros((n, 1)), np.arange(n) % 10))
    for dataset in suites.SUITES[suite]["datasets"]:
        if dataset.data.source != "cifar10":
            data = cells.load_data.__wrapped__(dataset.data)  # not the per-process cache
            sizes = f"{data['y'].size} train / {data['y_test'].size} test"
            assert sizes in dataset.description, dataset.name


def test_seeded_seeds_torch_as_pdiff_classifier_does():
    assert common.torch_seed(3) == int(np.random.RandomState(3).randint(2**31 - 1))
    state = torch.random.get_rng_state()
    with common.seeded(3, "cpu"):
        drawn = torch.rand(3)
    torch.manual_seed(common.torch_seed(3))
    torch.testing.assert_close(drawn, torch.rand(3))
    torch.random.set_rng_state(state)


def test_pdiff_cv_runner_flags_what_find_label_issues_cv_flags(cell):
    params = {"max_epochs": 2, "t_k": 1}
    issues, quality, seconds, _ = label_issues.run_pdiff_cv(cell.X, cell.y_noisy, 0, **params)
    clf = PDiffClassifier(noise_rate="auto", random_state=0, **params)
    np.testing.assert_array_equal(issues, clf.find_label_issues(cell.X, cell.y_noisy, cv=5))
    assert quality.shape == issues.shape and seconds > 0


def test_step_profiler_wraps_functions_and_generators_and_refuses_missing_names():
    class Owner:
        def call(self):
            return 1

        def batches(self):
            yield from (1, 2)

    profiler = steps.StepProfiler()
    profiler.wrap(Owner, "call", "call")
    profiler.wrap(Owner, "batches", "batches")
    assert Owner().call() == 1
    assert list(Owner().batches()) == [1, 2]
    assert [record["step"] for record in profiler.records] == ["call", "batches"]
    with pytest.raises(AttributeError, match="'predict' to measure"):
        profiler.wrap(Owner, "predict", "predict")


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak RSS reset needs /proc")
def test_large_data_steps_measure_the_public_seams():
    spec = {"kind": "steps", "n_samples": 2000, "n_features": 16, "epochs": 1, "threads": 1}
    result = large_data.run_child({**spec, "batch_size": 256}, log=io.StringIO())
    steps = [(record["depth"], record["step"]) for record in result["steps"]]
    initialize, fit_loop, forward_iter = (label for _, label in large_data.STEPS)
    # The default noise_rate="auto": three one-epoch probes (train, predict their held-out
    # fold); then the held-out choice of the model and the network itself; then prediction.
    probe = [(1, initialize), (1, fit_loop), (1, forward_iter)]
    assert steps[:10] == [(0, "PDiffClassifier.fit"), *probe * 3]
    predict = steps.index((0, "PDiffClassifier.predict_proba"))
    assert steps[predict : predict + 2] == [(0, "PDiffClassifier.predict_proba"), (1, forward_iter)]
    assert steps[predict - 2 : predict] == [(1, initialize), (1, fit_loop)]  # the model's


def _row(noise, method, seed, rate, **values):
    base = dict.fromkeys(
        ["acc_last10", "auroc", "f1", "fit_seconds", "estimated_noise_rate"], np.nan
    )
    return {
        "dataset": "emb",
        "noise": noise,
        "method": method,
        "seed": seed,
        "actual_noise_rate": rate,
        **base,
        **values,
    }


@pytest.mark.filterwarnings("ignore:All-NaN slice:RuntimeWarning")  # methods without a score
def test_real_noise_checks_compare_one_run_with_the_recipe_and_the_rivals():
    rows = []
    for seed, jitter in enumerate((0.0, 0.01, -0.01)):
        rows += [
            _row("clean", "pdiff_auto", seed, 0.0, acc_last10=0.74, estimated_noise_rate=0.05),
            _row("clean", "ce", seed, 0.0, acc_last10=0.73),
            _row(
                "worse",
                "pdiff_auto",
                seed,
                0.4,
                acc_last10=0.60 + jitter,
                auroc=0.86,
                f1=0.71,
                fit_seconds=45.0,
                estimated_noise_rate=0.35,
            ),
            _row("worse", "ce", seed, 0.4, acc_last10=0.55),
            _row("worse", "gce", seed, 0.4, acc_last10=0.63),
            _row("worse", "cleanlearning", seed, 0.4, acc_last10=0.68),
            _row("worse", "cv_recipe", seed, 0.4, auroc=0.83, f1=0.70, fit_seconds=180.0),
        ]
    clean, worse = render.real_noise_checks(rows, "emb")
    assert clean == (
        "- clean: estimate 0.050 (true 0.000, off by 0.050); accuracy 0.740 against plain 0.730."
    )
    assert worse == (
        "- worse: estimate 0.350 (true 0.400, off by 0.050); accuracy 0.600 against plain "
        "0.550 and the best rival (CleanLearning) 0.680; AUROC 0.860 against the recipe's "
        "0.830, F1 0.710 against 0.700, in 0.25 of its wall time."
    )


def test_real_noise_suites_embed_cifar_and_run_the_recipe():
    for suite, n_train in (("real-noise", 10000), ("real-noise-full", 50000)):
        (dataset,) = suites.SUITES[suite]["datasets"]
        assert dataset.data.features == "efficientnet" and dataset.data.n_samples == n_train
        assert {"cv_recipe", "pdiff_auto", "pdiff_paper", "oracle_labels"} <= set(dataset.methods)
        assert [noise.label for noise in dataset.noises][0] == "clean labels"


def _sources(out, split_seed, per_class):
    """The (class, file number) of each image under ``out``, from its bytes (fake_cifar's)."""
    images = {
        jpeg_bytes(pixels(split_seed + 100 * c + k, 4, 4)): (c, k)
        for c in range(10)
        for k in range(per_class)
    }
    files = out.rglob("*.*")
    return {path.relative_to(out).as_posix(): images[path.read_bytes()] for path in files}


def test_image_folder_benchmark_writes_the_noisy_folder_and_its_truth(
    tmp_path, capsys, monkeypatch
):
    clean, noisy = fake_cifar(tmp_path)
    out = tmp_path / "out"
    monkeypatch.setenv("CLEANLAB_PDIFF_DATA_DIR", str(tmp_path))  # no --data-dir: found through it
    argv = [str(out), "--labels", "random1", "--n-per-class", "2"]
    image_folder.main(argv)
    assert "wrote 20 train images (random1 labels" in capsys.readouterr().out
    with (tmp_path / "out_truth.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    folder = ImageFolder(out)
    assert [row["path"] for row in rows] == [p.relative_to(out).as_posix() for p in folder.files]
    assert [row["given_label"] for row in rows] == folder.labels.tolist()
    # Each file is the archive's k-th image of its true class, as it is (the same bytes),
    # filed under that image's noisy label; the truth file names its true class.
    sources = _sources(out, 0, 2)
    assert sorted(sources.values()) == [(c, k) for c in range(10) for k in range(2)]
    for row in rows:
        c, k = sources[row["path"]]
        assert row["true_label"] == CIFAR_CLASSES[c]
        given = CIFAR_CLASSES[noisy[np.flatnonzero(clean == c)[k]]]
        assert row["given_label"] == given and row["path"].startswith(f"{given}/")
    with pytest.raises(SystemExit) as exit_info:
        image_folder.main(argv)
    assert exit_info.value.code == 2
    assert f"OUT_DIR {out} is not an empty folder" in capsys.readouterr().err


def test_image_folder_file_names_do_not_give_the_true_class_away(tmp_path):
    fake_cifar(tmp_path)
    out = tmp_path / "out"
    image_folder.main([str(out), "--n-per-class", "3", "--data-dir", str(tmp_path)])
    paths = sorted(out.rglob("*.jpg"), key=lambda path: path.name)
    assert len({path.name for path in paths}) == len(paths) == 30
    for path in paths:
        assert re.fullmatch(r"img_\d{5}\.jpg", path.name), path
        assert not any(name in path.name for name in CIFAR_CLASSES), path
    # Nor do the numbers: in their order, the classes are shuffled, not in blocks.
    classes = [path.parent.name for path in paths]
    assert classes != sorted(classes)


@pytest.mark.parametrize("where", ["option", "variable"])
def test_image_folder_names_the_data_it_needs_when_the_folder_lacks_it(
    tmp_path, capsys, monkeypatch, where
):
    empty = tmp_path / "no data"
    empty.mkdir()
    argv = [str(tmp_path / "out"), "--n-per-class", "2"]
    if where == "option":
        argv += ["--data-dir", str(empty)]
    monkeypatch.setenv("CLEANLAB_PDIFF_DATA_DIR", str(empty))
    with pytest.raises(SystemExit) as exit_info:
        image_folder.main(argv)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"no CIFAR-10 data in {empty}" in error
    for needed in ("--data-dir", "CLEANLAB_PDIFF_DATA_DIR", cifar.ARCHIVE, cifar.LABEL_FILE):
        assert needed in error
    assert not (tmp_path / "out").exists()


def test_image_folder_benchmark_writes_test_images_under_their_true_classes(tmp_path, capsys):
    fake_cifar(tmp_path)
    (tmp_path / cifar.LABEL_FILE).unlink()  # the test images need the archive only
    out = tmp_path / "test"
    image_folder.main([str(out), "--test", "--n-per-class", "2", "--data-dir", str(tmp_path)])
    assert "wrote 20 test images (clean labels, noise rate 0.000)" in capsys.readouterr().out
    assert ImageFolder(out).classes == list(CIFAR_CLASSES)
    sources = _sources(out, 1000, 2)
    assert sorted(sources.values()) == [(c, k) for c in range(10) for k in range(2)]
    assert all(path.startswith(f"{CIFAR_CLASSES[c]}/") for path, (c, _) in sources.items())
    with pytest.raises(SystemExit):
        image_folder.main([str(tmp_path / "x"), "--test", "--labels", "worse"])
    assert "the test images, which have no human labels" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        image_folder.main([str(tmp_path / "x"), "--test", "--n-per-class", "1001"])
    assert "--n-per-class must be in [1, 1000], got 1001" in capsys.readouterr().err


def test_suite_names_the_cifar_data_it_needs_when_the_folder_lacks_it(tmp_path, capsys):
    argv = ["--suite", "cnn-cpu", "--data-dir", str(tmp_path), "--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as exit_info:
        run.main(argv)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"no CIFAR-10 data in {tmp_path}" in error
    assert "pass --data-dir DIR or set CLEANLAB_PDIFF_DATA_DIR=DIR" in error


def test_datalab_vs_label_scores_both_issue_types_against_the_wrong_labels(tmp_path):
    argv = ["--seeds", "1", "--n-samples", "200", "--max-epochs", "2", "--threads", "1"]
    datalab_vs_label.main([*argv, "--out", str(tmp_path)])
    with open(tmp_path / "datalab_vs_label.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["issue_type"] for row in rows] == ["pdiff", "label"]
    for row in rows:
        assert row["n_wrong"] == str(round(0.3 * 200))
        assert 0 < float(row["f1"]) <= 1 and 0.5 < float(row["auroc"]) <= 1
        assert int(row["n_flagged"]) > 0 and float(row["seconds"]) > 0
