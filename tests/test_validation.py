import numpy as np
import pytest

from sklearn_astromer._validation import LightCurveRepairWarning, check_light_curves


def curve(times, magnitudes):
    times = np.asarray(times, float)
    return np.column_stack([times, magnitudes, np.full(len(times), 0.1)])


def test_list_of_curves_kept_in_order_with_errors_defaulting_to_zero():
    X = [curve([1, 2, 3], [10, 11, 12]), np.array([[5.0, 1.0], [6.0, 2.0]])]
    ragged = check_light_curves(X)
    assert ragged.lengths.tolist() == [3, 2]
    np.testing.assert_array_equal(ragged.split(ragged.values)[1][:, 2], [0, 0])


def test_dense_array_uses_unit_time_grid_and_nan_as_missing():
    ragged = check_light_curves(np.array([[1.0, 2.0, np.nan], [3.0, 4.0, 5.0]]))
    assert ragged.lengths.tolist() == [2, 3]
    np.testing.assert_array_equal(ragged.values[:, 0], [0, 1, 0, 1, 2])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_points_dropped_with_warning_naming_samples(bad):
    X = [curve([1, 2], [1, 2]), curve([1, 2, 3], [1, bad, 3])]
    with pytest.warns(LightCurveRepairWarning, match=r"NaN or infinite.*\[1\]"):
        ragged = check_light_curves(X)
    assert ragged.lengths.tolist() == [2, 2]


def test_unsorted_times_sorted_with_warning():
    with pytest.warns(LightCurveRepairWarning, match=r"Sorted.*\[1\]"):
        ragged = check_light_curves([curve([1, 2], [1, 2]), curve([3, 1, 2], [30, 10, 20])])
    np.testing.assert_array_equal(ragged.values[2:, 1], [10, 20, 30])


def test_duplicate_times_averaged_with_warning():
    with pytest.warns(LightCurveRepairWarning, match=r"same time.*\[0\]"):
        ragged = check_light_curves([curve([1, 1, 2], [10, 12, 5])])
    np.testing.assert_allclose(ragged.values[:, 1], [11, 5])
    np.testing.assert_allclose(ragged.values[0, 2], np.sqrt(0.02) / 2)


def test_empty_and_all_nan_curves_are_errors_naming_the_index():
    with pytest.raises(ValueError, match=r"\[1\] have no finite observation"):
        check_light_curves([curve([1], [1]), np.empty((0, 3))])
    with pytest.raises(ValueError, match=r"\[0\] have no finite observation"):
        with pytest.warns(LightCurveRepairWarning):
            check_light_curves([curve([1, 2], [np.nan, np.nan])])


def test_one_point_curve_is_accepted():
    assert check_light_curves([curve([1], [3])]).lengths.tolist() == [1]


@pytest.mark.parametrize(
    "X, message",
    [
        ([np.ones(5)], r"Light curve 0 has shape \(5,\)"),
        ([curve([1], [1]), np.ones((3, 4))], r"Light curve 1 has shape \(3, 4\)"),
        ([[["a", "b"]]], "Light curve 0 cannot be read as a float array"),
        ("not light curves", "must be a list"),
        (np.ones(4), "Reshape your data"),
    ],
)
def test_wrong_shapes_and_dtypes_are_errors(X, message):
    with pytest.raises(ValueError, match=message):
        check_light_curves(X)


def test_sparse_input_is_refused():
    sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(TypeError, match="Sparse input"):
        check_light_curves(sparse.csr_matrix(np.ones((2, 3))))


def test_pandas_series_accepted_and_dataframe_refused():
    pd = pytest.importorskip("pandas")
    series = pd.Series([curve([1, 2], [1, 2]), curve([1, 2, 3], [1, 2, 3])], index=[7, 3])
    assert check_light_curves(series).lengths.tolist() == [2, 3]
    with pytest.raises(ValueError, match="DataFrame"):
        check_light_curves(pd.DataFrame({"a": [1.0]}))


def test_subset_keeps_requested_order():
    ragged = check_light_curves([curve([1], [1]), curve([1, 2], [2, 2]), curve([1, 2, 3], [3] * 3)])
    subset = ragged.subset([2, 0])
    assert subset.lengths.tolist() == [3, 1]
    np.testing.assert_array_equal(subset.values[:, 1], [3, 3, 3, 1])


@pytest.mark.parametrize("not_a_collection", [{0: curve([1, 2], [1, 2])}, "abc", b"abc", 3.5])
def test_fit_and_transform_refuse_what_is_no_collection_with_one_message(not_a_collection):
    from sklearn_astromer import AstromerEmbedder

    embedder = AstromerEmbedder(d_model=16, n_heads=2, d_ff=16, max_epochs=0)
    embedder.fit([curve([1, 2, 3], [1, 2, 3])])
    expected = r"must be a list, object array or Series of \(L, 2\|3\) arrays"
    for method in (embedder.fit, embedder.transform):
        with pytest.raises(ValueError, match=expected):
            method(not_a_collection)
