"""Embedding nested-pandas frames (the layout of nested-dask and LSDB catalogues)."""

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
npd = pytest.importorskip("nested_pandas")
dd = pytest.importorskip("dask.dataframe")

from sklearn_astromer import AstromerEmbedder  # noqa: E402
from sklearn_astromer.distributed import (  # noqa: E402
    embed_nested_frame,
    embed_partitions,
    nested_light_curves,
)

TINY = dict(d_model=16, n_layers=1, n_heads=2, d_ff=16, max_obs=32, batch_size=8,
            random_state=0, device="cpu")


@pytest.fixture(scope="module")
def nested_catalogue():
    """30 objects as a NestedFrame: base column ``objectid``, nested ``lc`` (time, mag, err)."""
    from tests.conftest import make_sinusoids

    light_curves, _ = make_sinusoids(n_samples=30, min_obs=5, max_obs=70, seed=2)
    ids = np.arange(1000, 1000 + len(light_curves))
    flat = pd.DataFrame({
        "objectid": np.repeat(ids, [len(curve) for curve in light_curves]),
        "time": np.concatenate([curve[:, 0] for curve in light_curves]),
        "mag": np.concatenate([curve[:, 1] for curve in light_curves]),
        "err": np.concatenate([curve[:, 2] for curve in light_curves]),
    })
    frame = npd.NestedFrame.from_flat(flat, base_columns=[], on="objectid", name="lc")
    frame = frame.reset_index()  # objectid becomes a base column, as in LSDB catalogues
    frame.index = pd.Index(np.arange(len(frame)) * 7 + 3, name="_healpix_29")
    return frame, ids, light_curves


@pytest.fixture(scope="module")
def embedder(nested_catalogue):
    _, _, light_curves = nested_catalogue
    return AstromerEmbedder(**TINY, max_epochs=1).fit(light_curves)


def test_nested_light_curves_follow_rows(nested_catalogue):
    frame, _, light_curves = nested_catalogue
    got = nested_light_curves(frame.iloc[5:12], "lc")
    assert len(got) == 7
    for curve, expected in zip(got, light_curves[5:12]):
        np.testing.assert_array_equal(curve, expected)
    two_columns = nested_light_curves(frame.iloc[:2], "lc", err_col=None)
    assert two_columns[0].shape == (len(light_curves[0]), 2)


def test_embed_nested_frame_matches_transform_and_keeps_the_index(nested_catalogue, embedder):
    frame, ids, light_curves = nested_catalogue
    result = embed_nested_frame(frame, embedder, nested_col="lc", id_col="objectid")
    assert result.index.equals(frame.index)
    assert result["objectid"].tolist() == ids.tolist()
    np.testing.assert_allclose(result.iloc[:, 1:].to_numpy(), embedder.transform(light_curves),
                               atol=1e-6)
    assert len(embed_nested_frame(frame.iloc[:0], embedder, nested_col="lc")) == 0


def test_embed_partitions_of_a_nested_dask_frame(nested_catalogue, embedder, tmp_path):
    frame, ids, light_curves = nested_catalogue
    ddf = dd.from_pandas(frame, npartitions=3)
    result = embed_partitions(ddf, embedder, id_col="objectid", nested_col="lc")
    computed = result.compute(scheduler="synchronous")
    assert computed["objectid"].tolist() == ids.tolist()
    np.testing.assert_allclose(computed.iloc[:, 1:].to_numpy(),
                               embedder.transform(light_curves), atol=1e-6)
    output = embed_partitions(ddf, embedder, id_col="objectid", nested_col="lc",
                              output=tmp_path / "embeddings")
    written = pd.read_parquet(output)
    assert sorted(written["objectid"]) == ids.tolist()


def test_object_with_no_usable_observation_is_named(nested_catalogue, embedder):
    frame, ids, _ = nested_catalogue
    broken = frame.iloc[:3].copy()
    flat = broken["lc"].nest.to_flat()
    flat.loc[flat.index == broken.index[1], "mag"] = np.nan
    broken = broken.drop(columns="lc").join_nested(flat, "lc")
    with pytest.raises(ValueError, match=str(ids[1])):
        embed_nested_frame(broken, embedder, nested_col="lc", id_col="objectid")


def test_a_band_field_gives_multiband_light_curves():
    from sklearn_astromer.datasets import make_light_curves

    curves, _ = make_light_curves(2, classes=["RRab", "EW"], survey="ztf", bands=("g", "r"),
                                  n_obs=(30, 40), random_state=0)
    names = np.array(["g", "r"])
    flat = pd.DataFrame({
        "objectid": np.repeat(np.arange(len(curves)), [len(curve) for curve in curves]),
        "time": np.concatenate([curve[:, 0] for curve in curves]),
        "mag": np.concatenate([curve[:, 1] for curve in curves]),
        "err": np.concatenate([curve[:, 2] for curve in curves]),
        "band": names[np.concatenate([curve[:, 3] for curve in curves]).astype(int)],
    })
    frame = npd.NestedFrame.from_flat(flat, base_columns=[], on="objectid", name="lc")
    got = nested_light_curves(frame, "lc", band_col="band", bands=["g", "r"])
    for curve, expected in zip(got, curves):
        np.testing.assert_array_equal(curve, expected)
    embedder = AstromerEmbedder(**TINY, max_epochs=0, multiband="per_band").fit(curves)
    result = embed_nested_frame(frame, embedder, nested_col="lc", band_col="band",
                                bands=["g", "r"])
    np.testing.assert_array_equal(result.to_numpy(), embedder.transform(curves))
