"""Beyond one machine: Dask embedding of catalogues, data-parallel (DDP) training.

Dask (``pip install sklearn-astromer[dask]``) is imported only when
:func:`embed_partitions` runs; DDP training needs only torch.
"""

from ._dask import embed_frame, embed_nested_frame, embed_partitions, nested_light_curves
from ._ddp import DistributedAstromerNet, fit_ddp, init_process_group, leave_process_group
from ._output import read_embeddings

__all__ = [
    "DistributedAstromerNet",
    "embed_frame",
    "embed_nested_frame",
    "embed_partitions",
    "fit_ddp",
    "init_process_group",
    "leave_process_group",
    "nested_light_curves",
    "read_embeddings",
]
