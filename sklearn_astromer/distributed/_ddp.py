"""Data-parallel training of :class:`~sklearn_astromer.AstromerEmbedder` (PyTorch DDP).

Every rank runs the same skorch training loop on its own shard of light
curves; :class:`~torch.nn.parallel.DistributedDataParallel` averages the
gradients, so the replicas stay identical and rank 0's weights are the model.
The only changes to single-process training live in
:class:`DistributedAstromerNet`: the module is wrapped in DDP, the loaders
draw this rank's indices, and logged losses are averaged over ranks so that
callbacks (early stopping, LR schedulers) take the same decision everywhere.
Around the epochs: ranks that hold the same light curves share out their
period search, and only rank 0 logs and writes checkpoints.
"""

import copy
import datetime
import math
import os
import socket
import tempfile
import warnings

import numpy as np
import torch
import torch.distributed as dist
from skorch.callbacks import Checkpoint, LRScheduler, PrintLog
from torch.nn.parallel import DistributedDataParallel

from .._base import fit_seed, fit_with_training_loop
from .._checkpoints import BestWeightsCheckpoint, StoppingEpochHistory
from .._prepared import PreparedLightCurves
from .._torch_common import LightCurveIndexDataset
from .._training import EpochSeeding, WarmupCosine, validation_size
from ..astromer import AstromerNet

#: Seconds a rank waits for the others in a collective before it fails.
DEFAULT_TIMEOUT = 600.0
# Callbacks that write files or print: rank 0's alone.
_RANK_ZERO_CALLBACKS = (PrintLog, Checkpoint, BestWeightsCheckpoint, StoppingEpochHistory)


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


class RankSampler(torch.utils.data.Sampler):
    """This rank's samples in the order :func:`rank_indices` gives for the current epoch.

    Parameters
    ----------
    n_samples : int
    shuffle : bool
    seed : int
    sharded : bool
        As for :func:`rank_indices`.
    """

    def __init__(self, n_samples, *, shuffle, seed, sharded):
        self.n_samples, self.shuffle, self.seed, self.sharded = n_samples, shuffle, seed, sharded
        self.epoch = 0
        self._length = len(self._indices())

    def set_epoch(self, epoch):
        """Draw the order of ``epoch`` (every rank must be told the same epoch)."""
        self.epoch = epoch

    def _indices(self):
        return rank_indices(self.n_samples, shuffle=self.shuffle, seed=self.seed,
                            epoch=self.epoch, sharded=self.sharded)

    def __iter__(self):
        return iter(self._indices())

    def __len__(self):
        return self._length


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
        sampler = RankSampler(len(dataset), shuffle=training, seed=self.seed,
                              sharded=self.sharded)
        return getattr(self, prefix)(dataset, sampler=sampler, **kwargs)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        # skorch builds the loaders once per fit: the epoch's order is set here.
        if iterator is not None and isinstance(getattr(iterator, "sampler", None), RankSampler):
            iterator.sampler.set_epoch(len(self.history))
        return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)

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


def fit_ddp(estimator, X, *, world_size=None, sharded=False, timeout=DEFAULT_TIMEOUT):
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
    timeout : float, default=600
        Seconds a rank waits for the others (a stalled or dead rank) before
        it fails, when the process group is initialised here.

    Returns
    -------
    estimator : AstromerEmbedder
        Fitted; ``estimator.net_.history`` holds the losses averaged over ranks.
    """
    if dist.is_initialized():
        return _fit_on_rank(estimator, X, sharded)
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:
        init_process_group(estimator, timeout=timeout)
        _fit_on_rank(estimator, X, sharded)
        leave_process_group()
        return estimator
    if world_size is None:
        return estimator.fit(X)
    return _fit_spawned(estimator, X, world_size, timeout)


def init_process_group(estimator=None, timeout=DEFAULT_TIMEOUT):
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
    timeout : float, default=600
        Seconds a collective waits for every rank before it raises, so that
        a stalled or dead rank stops the others instead of blocking them.
    """
    for name, slurm_name in (("RANK", "SLURM_PROCID"), ("WORLD_SIZE", "SLURM_NTASKS"),
                             ("LOCAL_RANK", "SLURM_LOCALID")):
        if name not in os.environ and slurm_name in os.environ:
            os.environ[name] = os.environ[slurm_name]
    device = getattr(estimator, "device", "auto")
    use_gpu = torch.cuda.is_available() and str(device) in ("auto", "cuda")
    if use_gpu:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    dist.init_process_group(backend="nccl" if use_gpu else "gloo",
                            timeout=datetime.timedelta(seconds=timeout))


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
        steps_share = _rank_steps_share(net, n_samples, estimator.validation_fraction, sharded)
        distributed = _distributed_copy(net, seed, sharded, rank, steps_share)
        _check_same_validation(distributed)
        distributed.partial_fit(LightCurveIndexDataset(n_samples), None)
        net.history = distributed.history
        net.optimizer_.load_state_dict(distributed.optimizer_.state_dict())

    verbose = estimator.verbose
    try:
        if rank != 0:
            estimator.set_params(verbose=0)  # messages from rank 0 only
        if sharded:
            return fit_with_training_loop(estimator, X, seed=seed, train=train_data_parallel)
        # The same light curves on every rank: their warnings would repeat on every rank.
        with warnings.catch_warnings():
            if rank != 0:
                warnings.simplefilter("ignore")
            return fit_with_training_loop(estimator, X, seed=seed, train=train_data_parallel,
                                          prepared_as=PeriodsSearchedAcrossRanks.of)
    finally:
        estimator.set_params(verbose=verbose)


class PeriodsSearchedAcrossRanks(PreparedLightCurves):
    """The light curves every rank holds, whose period search the ranks share out.

    On first use, each rank searches every ``world_size``-th light curve and
    all ranks exchange what they found: the search, most of the time before
    the first epoch, takes ``1 / world_size`` of its single-process time.
    Every rank must read :attr:`periods` at the same point (a collective).
    """

    @classmethod
    def of(cls, prepared):
        """The same light curves as ``prepared``, periods still to be searched."""
        return cls(prepared.light_curves, prepared.first_index, prepared.n_jobs)

    @property
    def periods(self):
        """``(frequencies, powers)`` as in the parent class, searched across ranks."""
        if self._periods is None:
            rank, world_size = dist.get_rank(), dist.get_world_size()
            found = [None] * world_size
            dist.all_gather_object(found, self.subset(np.arange(rank, len(self), world_size))
                                   .periods)
            rows = np.concatenate([np.arange(index, len(self), world_size)
                                   for index in range(world_size)])
            self._periods = tuple(_in_rows(np.concatenate([part[column] for part in found]),
                                           rows) for column in range(2))
        return self._periods


def _in_rows(values, rows):
    """``values`` put back in order: ``values[i]`` belongs to row ``rows[i]``."""
    ordered = np.empty_like(values)
    ordered[rows] = values
    return ordered


def _rank_steps_share(net, n_samples, validation_fraction, sharded):
    """A rank's optimiser steps per epoch over those the single-process schedule counted.

    The schedule counted the batches of every training light curve this rank
    holds; a rank takes ``1 / world_size`` of them when all ranks hold the
    same light curves, and as many as the largest shard when they do not.
    """
    n_train = n_samples - (validation_size(n_samples, validation_fraction)
                           if net.train_split is not None else 0)
    rank_train = (_max_over_ranks(n_train) if sharded
                  else -(-n_train // dist.get_world_size()))
    return math.ceil(rank_train / net.batch_size) / max(1, math.ceil(n_train / net.batch_size))


def _rank_callbacks(callbacks, rank, rank_seed, steps_share):
    """``callbacks`` as one rank runs them.

    Warm-up-cosine schedules are spread over the rank's steps; every epoch's
    torch draws (dropout) start from ``rank_seed``, so ranks drop out
    differently; and only rank 0 keeps the callbacks that print or write.
    """
    ranked = []
    for item in callbacks:
        name, callback = item if isinstance(item, tuple) else (None, item)
        if rank != 0 and isinstance(callback, _RANK_ZERO_CALLBACKS):
            continue
        if isinstance(callback, LRScheduler) and isinstance(
                getattr(callback, "lr_lambda", None), WarmupCosine):
            callback = copy.copy(callback)
            callback.lr_lambda = callback.lr_lambda.scaled(steps_share)
        elif isinstance(callback, EpochSeeding):
            callback = EpochSeeding(rank_seed)
        ranked.append(callback if name is None else (name, callback))
    return ranked


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


def _distributed_copy(net, seed, sharded, rank, steps_share):
    """A :class:`DistributedAstromerNet` training ``net``'s very module (shared, not copied)."""
    params = {key: value for key, value in net.get_params(deep=False).items()
              if not key.startswith(("module__", "_"))}
    params["module"] = net.module_
    rank_seed = int(np.random.SeedSequence([seed, rank]).generate_state(1)[0])
    params["callbacks"] = _rank_callbacks(params["callbacks"] or [], rank, rank_seed,
                                          steps_share)
    if rank != 0:
        params["verbose"] = 0
    collate = params.get("iterator_train__collate_fn")
    if hasattr(collate, "with_seed"):  # each rank draws its own windows and masks
        params["iterator_train__collate_fn"] = collate.with_seed(rank_seed)
    return DistributedAstromerNet(**params, seed=seed, sharded=sharded).initialize()


# ------------------------------------------------------- local processes
def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spawned_rank(rank, world_size, port, estimator, X, result_path, timeout):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank))
    if not torch.cuda.is_available():  # share the cores, unless OMP_NUM_THREADS says otherwise
        default = max(1, (os.cpu_count() or 1) // world_size)
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", default)))
    fit_ddp(estimator, X, timeout=timeout)
    if rank == 0:
        import joblib

        joblib.dump(estimator, result_path)


def _fit_spawned(estimator, X, world_size, timeout):
    """Run ``world_size`` local ranks and copy rank 0's fitted state into ``estimator``."""
    import joblib
    import torch.multiprocessing as mp

    with tempfile.TemporaryDirectory() as tmp:
        result_path = os.path.join(tmp, "estimator.joblib")
        mp.spawn(_spawned_rank, args=(world_size, _free_port(), estimator, X, result_path, timeout),
                 nprocs=world_size, join=True)
        fitted = joblib.load(result_path)
    estimator.__dict__.update(fitted.__dict__)
    return estimator
