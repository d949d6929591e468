"""scikit-learn's estimator checks, with a written reason for the one expected failure."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from cleanlab_pdiff import PDiffClassifier

EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": (
        "Minibatch SGD cannot make a weight-k sample exactly equivalent to k copies: "
        "copies land in different batches and shift every later batch's composition."
    ),
}


@parametrize_with_checks(
    [PDiffClassifier()],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
