"""Where and how a fit's networks run: the device, an Accelerate run, the forward precision.

The estimator's parameter table checks each parameter's kind; what depends on this
machine (is CUDA there, does it have bfloat16, does the accelerator agree) is
checked here, when :func:`resolve_placement` turns the three parameters into one
:class:`Placement`.
"""

from dataclasses import dataclass

import torch

__all__ = [
    "PRECISIONS",
    "Placement",
    "check_device",
    "is_accelerator",
    "is_device",
    "resolve_placement",
]

#: Values of ``precision``: the autocast dtype of the forward pass, and the matching
#: ``mixed_precision`` of an ``accelerate.Accelerator``.
PRECISIONS = {"float32": (None, "no"), "bf16": (torch.bfloat16, "bf16")}


@dataclass(frozen=True)
class Placement:
    """Where and how the networks of a fit run.

    Attributes
    ----------
    device : torch.device
        Where to train (the accelerator's device with an accelerator).
    accelerator : accelerate.Accelerator or None
        Train through it (data-parallel), or not.
    autocast_dtype : torch.dtype or None
        Mixed precision of the forward pass; None: float32.
    """

    device: torch.device
    accelerator: object = None
    autocast_dtype: torch.dtype | None = None


def resolve_placement(device, accelerator, precision):
    """Return the :class:`Placement` meant by the estimator's three parameters.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:<index>"`` or a device.
    accelerator : accelerate.Accelerator or None
    precision : {"float32", "bf16"}
    """
    accelerator = check_accelerator(accelerator, device)
    device = check_device(device) if accelerator is None else accelerator.device
    return Placement(device, accelerator, check_precision(precision, device, accelerator))


def is_accelerator(value):
    """Return whether ``value`` is an ``accelerate.Accelerator`` (imported only if installed)."""
    try:
        from accelerate import Accelerator
    except ImportError:  # then it can't be one
        return False
    return isinstance(value, Accelerator)


def is_device(value):
    """Return whether ``value`` can name a device: a string or a ``torch.device``."""
    return isinstance(value, (str, torch.device))


def check_accelerator(accelerator, device):
    """Return the accelerator (of the right kind already), or None; it needs device="auto"."""
    if accelerator is None:
        return None
    if not (isinstance(device, str) and device == "auto"):
        raise ValueError(
            f"device must be 'auto' with an accelerator, which places the network "
            f"itself; got device={device!r}."
        )
    return accelerator


def check_precision(precision, device, accelerator):
    """Return the autocast dtype meant by a valid ``precision`` (None for float32)."""
    dtype, mixed_precision = PRECISIONS[precision]
    if accelerator is not None and str(accelerator.mixed_precision) != mixed_precision:
        raise ValueError(
            f"precision={precision!r} needs the accelerator's mixed_precision to be "
            f"{mixed_precision!r}, got {str(accelerator.mixed_precision)!r}; give both "
            f"the same precision."
        )
    if dtype is torch.bfloat16 and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError(f"precision='bf16' but the CUDA device {device} lacks bfloat16.")
    return dtype


def check_device(device):
    """Return the ``torch.device`` meant by ``device`` ("auto", "cpu", "cuda", "cuda:1", ...)."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda' or 'cuda:<index>', got {device!r}."
        ) from exc
    if resolved.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be a CPU or CUDA device, got {device!r}.")
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} but CUDA is not available; use 'cpu' or 'auto'.")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} but only {torch.cuda.device_count()} CUDA device(s) exist."
            )
    return resolved
