"""Data-parallel training of :class:`~sklearn_astromer.AstromerEmbedder` (PyTorch DDP).

Every rank runs the same skorch training loop on its own shard of light
curves; :class:`~torch.nn.parallel.DistributedDataParallel` averages the
gradients, so the replicas stay identical and rank 0's weights are the model.
The only changes to single-process training live in
:class:`DistributedAstromerNet`: the module is wrapped in DDP, the loaders
draw this rank's indices, and logged losses are averaged over ranks so that
callbacks (early stopping, LR schedulers) take the same decision everywhere.
"""

import os
import socket
import tempfile

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from .._base import fit_seed, fit_with_training_loop
from .._torch_common import LightCurveIndexDataset
from ..astromer import AstromerNet


def rank_indices(n_samples, *, shuffle, seed, epoch, sharded):
    """Indices of the samples this rank visits in one epoch.

    Every rank gets the same number of indices, so every rank runs the same
    number of batches (DDP needs each backward pass on every rank); short
    shards wrap around, repeating a few samples, as
    :class:`~torch.utils.data.DistributedSampler` does.

    Parameters
    ----------
    n_samples : int
        Samples in the dataset held by this rank.
    shuffle : bool
        Draw a new order every epoch (training) or keep the given order.
    seed, epoch : int
        The order depends on both and, for sharded data, on the rank.
    sharded : bool
        False: every rank holds the same dataset and takes every
        ``world_size``-th sample of a common order. True: every rank holds its
        own samples and visits all of them.

    Returns
    -------
    list of int
    """
    rank, world_size = dist.get_rank(), dist.get_world_size()
    if sharded:
        n_target = _max_over_ranks(n_samples)
        if n_samples == 0:
            raise ValueError(f"Rank {rank} holds no light curve; every rank needs at least one.")
        rng = np.random.default_rng([seed, epoch, rank])
        order = rng.permutation(n_samples) if shuffle else np.arange(n_samples)
        return np.resize(order, n_target).tolist()
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(n_samples) if shuffle else np.arange(n_samples)
    n_per_rank = -(-n_samples // world_size)
    return np.resize(order, n_per_rank * world_size)[rank::world_size].tolist()


def _max_over_ranks(value):
    tensor = torch.tensor([value], dtype=torch.int64, device=_collective_device())
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return int(tensor.item())


def _collective_device():
    """Tensors in collectives must live on the GPU under NCCL, on the CPU under gloo."""
    return f"cuda:{torch.cuda.current_device()}" if dist.get_backend() == "nccl" else "cpu"


def _mean_over_ranks(tensor):
    tensor = tensor.detach().clone()
    dist.all_reduce(tensor)
    return tensor / dist.get_world_size()


class DistributedAstromerNet(AstromerNet):
    """:class:`~sklearn_astromer.astromer.AstromerNet` for one rank of a DDP process group.

    Outside an initialised process group it behaves exactly like its parent.

    Parameters
    ----------
    *args
        As for :class:`~sklearn_astromer.astromer.AstromerNet`.
    seed : int, default=0
        Seed of the per-epoch sample orders (the same on every rank).
    sharded : bool, default=False
        Whether each rank was given its own light curves (True) or all ranks
        the same ones (False); see :func:`rank_indices`.
    **kwargs
        As for :class:`~sklearn_astromer.astromer.AstromerNet`.
    """

    def __init__(self, *args, seed=0, sharded=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.seed = seed
        self.sharded = sharded

    def initialize_module(self):
        super().initialize_module()
        if dist.is_initialized() and not isinstance(self.module_, DistributedDataParallel):
            # DDP broadcasts rank 0's parameters here: every rank starts from them.
            module = self.module_.to(self.device)
            on_gpu = next(module.parameters()).is_cuda
            device_ids = [torch.cuda.current_device()] if on_gpu else None
            self.module_ = DistributedDataParallel(module, device_ids=device_ids)
        return self

    def get_iterator(self, dataset, training=False):
        if not dist.is_initialized():
            return super().get_iterator(dataset, training=training)
        prefix = "iterator_train" if training else "iterator_valid"
        kwargs = self.get_params_for(prefix)
        kwargs.pop("shuffle", None)
        kwargs.setdefault("batch_size", self.batch_size)
        sampler = rank_indices(len(dataset), shuffle=training, seed=self.seed,
                               epoch=len(self.history), sharded=self.sharded)
        return getattr(self, prefix)(dataset, sampler=sampler, **kwargs)

    def train_step(self, batch, **fit_params):
        step = super().train_step(batch, **fit_params)
        if dist.is_initialized():
            step["loss"] = _mean_over_ranks(step["loss"])
        return step

    def validation_step(self, batch, **fit_params):
        step = super().validation_step(batch, **fit_params)
        if dist.is_initialized():
            step["loss"] = _mean_over_ranks(step["loss"])
        return step


def fit_ddp(estimator, X, *, world_size=None, sharded=False):
    """Fit an :class:`~sklearn_astromer.AstromerEmbedder` data-parallel.

    Three ways to call it:

    * inside a process group (``torchrun`` or ``srun`` started this process
      and ``torch.distributed`` is initialised, or ``RANK``/``WORLD_SIZE`` are
      set, in which case the group is initialised here): this rank trains its
      shard; every rank returns the same fitted estimator;
    * ``world_size=N`` outside a process group: ``N`` local processes are
      spawned (gloo on CPU, NCCL on GPUs, one GPU each), and the estimator is
      fitted in place with their common result;
    * neither: a plain ``estimator.fit(X)``.

    ``batch_size`` is per rank: one optimiser step sees
    ``world_size * batch_size`` windows, so consider scaling ``lr``.

    Parameters
    ----------
    estimator : AstromerEmbedder
        Unfitted or fitted (``pretrained`` weights are fine-tuned).
    X : light curves
        Every rank's light curves (``sharded=False``: the same list on every
        rank, each rank trains on every ``world_size``-th; ``sharded=True``:
        this rank's own part of the training set).
    world_size : int or None, default=None
        Local processes to spawn when not already in a process group. On
        the CPU each takes ``os.cpu_count() // world_size`` torch threads
        (``OMP_NUM_THREADS``, when set, instead).
    sharded : bool, default=False
        See ``X``. With sharded data, the validation split is drawn per rank.

    Returns
    -------
    estimator : AstromerEmbedder
        Fitted; ``estimator.net_.history`` holds the losses averaged over ranks.
    """
    if dist.is_initialized():
        return _fit_on_rank(estimator, X, sharded)
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:
        init_process_group(estimator)
        _fit_on_rank(estimator, X, sharded)
        leave_process_group()
        return estimator
    if world_size is None:
        return estimator.fit(X)
    return _fit_spawned(estimator, X, world_size)


def init_process_group(estimator=None):
    """Join the process group described by the ``torchrun`` environment variables.

    Uses NCCL and the GPU ``LOCAL_RANK`` when the estimator's device is CUDA,
    gloo on the CPU otherwise. SLURM's variables (``SLURM_PROCID``,
    ``SLURM_NTASKS``, ``SLURM_LOCALID``) stand in for ``RANK``,
    ``WORLD_SIZE`` and ``LOCAL_RANK`` when those are absent.

    Parameters
    ----------
    estimator : AstromerEmbedder or None, default=None
        Its ``device`` chooses the backend (NCCL for CUDA, gloo otherwise);
        None: NCCL when a GPU is visible.
    """
    for name, slurm_name in (("RANK", "SLURM_PROCID"), ("WORLD_SIZE", "SLURM_NTASKS"),
                             ("LOCAL_RANK", "SLURM_LOCALID")):
        if name not in os.environ and slurm_name in os.environ:
            os.environ[name] = os.environ[slurm_name]
    device = getattr(estimator, "device", "auto")
    use_gpu = torch.cuda.is_available() and str(device) in ("auto", "cuda")
    if use_gpu:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    dist.init_process_group(backend="nccl" if use_gpu else "gloo")


def leave_process_group():
    """Wait for every rank, then destroy the group (after a failure, let the process exit).

    Without the barrier a rank that finishes first can tear down its gloo
    connections while a peer still completes the last collective, which
    aborts that peer.
    """
    dist.barrier()
    dist.destroy_process_group()


def _fit_on_rank(estimator, X, sharded):
    """``estimator.fit(X)`` with the epochs run by a :class:`DistributedAstromerNet`."""
    seed = _broadcast(fit_seed(estimator))  # random_state=None: still one split, one init
    rank = dist.get_rank()

    def train_data_parallel(net, n_samples, seed):
        distributed = _distributed_copy(net, seed, sharded, rank)
        _check_same_validation(distributed)
        torch.manual_seed(seed + 1 + rank)  # different dropout on every rank
        distributed.partial_fit(LightCurveIndexDataset(n_samples), None)
        net.history = distributed.history
        net.optimizer_.load_state_dict(distributed.optimizer_.state_dict())

    return fit_with_training_loop(estimator, X, seed=seed, train=train_data_parallel)


def _check_same_validation(net):
    """All ranks validate, or none: otherwise their collectives would wait on each other."""
    validates = int(net.train_split is not None)
    if _max_over_ranks(validates) != -_max_over_ranks(-validates):
        raise ValueError(
            "Some ranks hold too few light curves for validation_fraction: give every "
            "rank more light curves, or set validation_fraction=None."
        )


def _broadcast(value):
    objects = [value]
    dist.broadcast_object_list(objects, src=0)
    return objects[0]


def _distributed_copy(net, seed, sharded, rank):
    """A :class:`DistributedAstromerNet` training ``net``'s very module (shared, not copied)."""
    params = {key: value for key, value in net.get_params(deep=False).items()
              if not key.startswith(("module__", "_"))}
    params["module"] = net.module_
    if rank != 0:
        params["verbose"] = 0
    collate = params.get("iterator_train__collate_fn")
    if hasattr(collate, "with_seed"):
        # Each rank draws its own windows and masks.
        rank_seed = int(np.random.SeedSequence([seed, rank]).generate_state(1)[0])
        params["iterator_train__collate_fn"] = collate.with_seed(rank_seed)
    return DistributedAstromerNet(**params, seed=seed, sharded=sharded).initialize()


# ------------------------------------------------------- local processes
def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spawned_rank(rank, world_size, port, estimator, X, result_path):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank))
    if not torch.cuda.is_available():  # share the cores, unless OMP_NUM_THREADS says otherwise
        default = max(1, (os.cpu_count() or 1) // world_size)
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", default)))
    fit_ddp(estimator, X)
    if rank == 0:
        import joblib

        joblib.dump(estimator, result_path)


def _fit_spawned(estimator, X, world_size):
    """Run ``world_size`` local ranks and copy rank 0's fitted state into ``estimator``."""
    import joblib
    import torch.multiprocessing as mp

    with tempfile.TemporaryDirectory() as tmp:
        result_path = os.path.join(tmp, "estimator.joblib")
        mp.spawn(_spawned_rank, args=(world_size, _free_port(), estimator, X, result_path),
                 nprocs=world_size, join=True)
        fitted = joblib.load(result_path)
    estimator.__dict__.update(fitted.__dict__)
    return estimator
