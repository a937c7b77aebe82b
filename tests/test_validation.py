import warnings

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


def test_repeated_times_kept_as_separate_observations_in_input_order():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ragged = check_light_curves([curve([1, 1, 2], [10, 12, 5]), curve([1, 1], [12, 10])])
    assert ragged.lengths.tolist() == [3, 2]
    np.testing.assert_array_equal(ragged.values[:, 1], [10, 12, 5, 12, 10])
    with pytest.warns(LightCurveRepairWarning, match="Sorted"):
        ragged = check_light_curves([curve([2, 1, 1], [5, 12, 10])])
    # A stable sort: the observations at time 1 keep their input order.
    np.testing.assert_array_equal(ragged.values[:, 1], [12, 10, 5])
    np.testing.assert_array_equal(ragged.source_index, [1, 2, 0])


def test_outputs_go_back_to_input_rows_with_nan_for_dropped_points():
    X = [curve([3, 1, 2, 2], [30, 10, np.nan, 20]), curve([5, 6], [1, 2])]
    with pytest.warns(LightCurveRepairWarning):
        ragged = check_light_curves(X)
    assert ragged.input_lengths.tolist() == [4, 2]
    restored = ragged.split_to_inputs(ragged.values)
    np.testing.assert_array_equal(restored[0][[0, 1, 3]], X[0][[0, 1, 3]])
    assert np.isnan(restored[0][2]).all()
    np.testing.assert_array_equal(restored[1], X[1])
    subset = ragged.subset([1, 0])
    assert [len(rows) for rows in subset.split_to_inputs(subset.values[:, 1])] == [2, 4]
    np.testing.assert_array_equal(subset.split_to_inputs(subset.values[:, 1])[1][[0, 1, 3]],
                                  [30, 10, 20])


def test_dense_rows_keep_their_cells_with_nan_for_missing_ones():
    with pytest.warns(LightCurveRepairWarning, match=r"\[1\]"):
        ragged = check_light_curves(np.array([[1.0, 2.0, 3.0], [4.0, np.inf, 6.0]]))
    restored = ragged.split_to_inputs(ragged.values[:, 1])
    np.testing.assert_array_equal(restored[1], [4.0, np.nan, 6.0])


def test_complex_values_are_refused_naming_the_light_curve():
    X = [curve([1, 2], [1, 2]), curve([1, 2], [1, 2]) + 1j]
    with pytest.raises(ValueError, match="Light curve 1 holds complex numbers"):
        check_light_curves(X)
    with pytest.raises(ValueError, match="Complex data not supported"):
        check_light_curves(np.ones((2, 3)) * 1j)


def test_three_dimensional_array_says_to_pass_a_list():
    with pytest.raises(ValueError, match=r"\(n_samples, L, 2\|3\).*list\(X\)"):
        check_light_curves(np.ones((4, 10, 3)))


@pytest.mark.parametrize("n_columns", [2, 3])
def test_dense_array_that_looks_like_one_light_curve_warns(n_columns):
    one_curve = curve(np.arange(20) + 5e4, np.sin(np.arange(20)))[:, :n_columns]
    with pytest.warns(UserWarning, match=r"shape \(20, %d\).*pass it in a list: \[X\]" % n_columns):
        ragged = check_light_curves(one_curve)
    assert len(ragged) == 20
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_light_curves([one_curve])
        check_light_curves(np.random.default_rng(0).normal(size=(20, 3)))
        check_light_curves(np.arange(12.0).reshape(4, 3))  # too few rows to tell


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
        ([curve([1], [1]), np.ones((3, 4))], r"Light curve 1 has a fourth column \(a band"),
        ([curve([1], [1]), np.ones((3, 5))], r"Light curve 1 has shape \(3, 5\)"),
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
