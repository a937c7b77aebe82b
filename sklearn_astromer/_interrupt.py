"""Ctrl-C during training stops ``fit``, instead of passing for the end of training.

skorch's ``NeuralNet.partial_fit`` catches :class:`KeyboardInterrupt` and
returns normally, leaving a half-trained net that a ``Pipeline`` or a grid
search would go on to use. skorch does so because its
:class:`~skorch.callbacks.EarlyStopping` stops training by raising
KeyboardInterrupt itself. The estimators of this package tell the two apart:
an interrupt raised while an early-stopping callback has run out of patience
ends training as before; any other reaches the user.
"""

from skorch.callbacks import EarlyStopping


class _TrainingInterrupted(BaseException):
    """Carries a KeyboardInterrupt past skorch's handler (not a KeyboardInterrupt itself)."""


class PropagateInterruptMixin:
    """A :class:`skorch.NeuralNet` mixin: ``partial_fit`` (and ``fit``) re-raise Ctrl-C.

    The interrupt leaves the training loop wrapped in an exception skorch
    does not catch, and is unwrapped and raised again as the original
    :class:`KeyboardInterrupt` when it leaves ``partial_fit``. Early
    stopping's own KeyboardInterrupt (see :func:`stopped_early`) is left to
    skorch, which ends training normally.
    """

    def fit_loop(self, *args, **kwargs):
        """skorch's training loop; a KeyboardInterrupt other than early stopping's leaves it
        wrapped.

        Parameters
        ----------
        *args, **kwargs
            Passed to :meth:`skorch.NeuralNet.fit_loop`.

        Returns
        -------
        PropagateInterruptMixin
            The net, as skorch returns it.
        """
        try:
            return super().fit_loop(*args, **kwargs)
        except KeyboardInterrupt as interrupt:
            if stopped_early(self):
                raise
            raise _TrainingInterrupted() from interrupt

    def partial_fit(self, *args, **kwargs):
        """skorch's ``partial_fit``, but a KeyboardInterrupt propagates.

        Parameters
        ----------
        *args, **kwargs
            Passed to :meth:`skorch.NeuralNet.partial_fit`.

        Returns
        -------
        PropagateInterruptMixin
            The net, as skorch returns it.
        """
        try:
            return super().partial_fit(*args, **kwargs)
        except _TrainingInterrupted as interrupted:
            raise interrupted.__cause__ from None


def stopped_early(net):
    """Whether an :class:`~skorch.callbacks.EarlyStopping` callback of ``net`` has run out of
    patience (the KeyboardInterrupt it raises then means "stop training")."""
    return any(isinstance(callback, EarlyStopping)
               and getattr(callback, "misses_", 0) >= callback.patience
               for _, callback in getattr(net, "callbacks_", []))


def forget_fit(estimator):
    """Remove every fitted attribute (``name_``), so that a failed ``fit`` leaves ``estimator`` unfitted."""
    for name in [name for name in vars(estimator)
                 if name.endswith("_") and not name.startswith("__")]:
        estimator.__dict__.pop(name, None)
