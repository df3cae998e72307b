"""Where ``translate`` runs the generator: torch, or ONNX Runtime on the CPU.

- ``torch``: the model as trained (the GPU path: bf16 autocast, optional torch.compile).
- ``onnxruntime``: the generator's network (the convolutions: (B, 3, H, W) -> (B, 4, H, W) raw outputs) is
  exported to ONNX once and run by ONNX Runtime's CPU kernels; the head (Stokes parameters -> intensities,
  the projection) stays in torch, in float32/float64 exactly as on the torch path. Batch, height and width
  are dynamic: any frame size runs (the caller pads to the network's multiple, as for torch).
- ``auto``: ONNX Runtime on the CPU when it is installed (``pip install 'polaraug[onnx]'``) and the network
  can be exported; torch otherwise (GPUs, ``--compile``, translators with a whole-frame context branch,
  whose canvas size is computed in Python and would be frozen into the export). Resuming an output, it keeps
  the backend the output was started with, so one set never mixes two.

The export uses torch's TorchScript-based exporter (``dynamo=False``): about 1 s for the built-in
translator and 3 s for the reference architecture on 2 cores, without onnxscript (the torch.export-based
exporter took 9 s). It is cached beside the output (``OUT/.translate/onnx/``), keyed by a hash of the
network's architecture and weights and of the torch version, and written atomically.

The two backends' intensities differ by float32 rounding only, and agree to the documented tolerances
(:data:`TOLERANCE_8BIT`, :data:`TOLERANCE_16BIT`, :data:`TOLERANCE_MAX`). Measured on the built-in translator
with two rendered 1280x720 frames: at most 1 step at 8 bits; at 16 bits 99.99 % of samples within 8 steps and
the largest difference 164 steps (2.5e-3 of full scale), at pixels where the Stokes head's angle vector (u, v)
is near zero, so that AoLP is ill-defined and a rounding difference turns it (torch on its own is bitwise
identical across batch sizes there).
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import warnings
from pathlib import Path

import torch
from torch import nn

from polaraug.errors import InputError
from polaraug.io.atomic import atomic_path

BACKENDS = ("auto", "torch", "onnxruntime")
INSTALL = "pip install 'polaraug[onnx]'"
OPSET = 17
TOLERANCE_8BIT = 1  # steps at 8 bits: every sample
TOLERANCE_16BIT = 16  # steps at 16 bits: 99.99 % of samples (measured: 8 on the built-in translator)
TOLERANCE_MAX = 4e-3  # of full scale, every sample (262 steps at 16 bits; measured 2.5e-3)
TOLERANCE_QUANTILE = 0.9999  # the share of samples TOLERANCE_16BIT bounds


def onnxruntime_installed() -> bool:
    """Whether ONNX Runtime can be imported (the ``onnx`` extra)."""
    return importlib.util.find_spec("onnxruntime") is not None


def network(model: nn.Module) -> tuple[nn.Module, str]:
    """The generator's network and its attribute name on ``model.g``'s owner.

    Args:
        model: a :class:`~polaraug.translate.model.Translator`.

    Returns:
        (the network, "net" when it sits under a head at ``model.g.net``; "g" when it is ``model.g`` itself).
    """
    return (model.g.net, "net") if hasattr(model.g, "net") else (model.g, "g")


def exportable(model: nn.Module) -> bool:
    """Whether the network exports with dynamic sizes (not with a whole-frame context branch)."""
    return not getattr(network(model)[0], "context_size", 0)


def _onnx_usable(model: nn.Module, device_type: str, compile_model: bool) -> str | None:
    """Why ONNX Runtime cannot run ``model`` here (None: it can)."""
    if device_type != "cpu":
        return f"it runs on the CPU and this run's device is {device_type}; use --backend torch there"
    if compile_model:
        return "--compile applies to the torch backend"
    if not exportable(model):
        return "this translator has a whole-frame context branch, which does not export; use --backend torch"
    if not onnxruntime_installed():
        return f"ONNX Runtime is not installed: {INSTALL}"
    return None


def resolve_backend(name: str, device_type: str, model: nn.Module, *, compile_model: bool = False,
                    previous: str | None = None) -> str:
    """The backend a run uses.

    Args:
        name: "auto", "torch" or "onnxruntime" (``--backend``).
        device_type: the run's torch device type ("cpu", "cuda", ...).
        model: the translator.
        compile_model: ``--compile`` was given (torch only).
        previous: the backend of the output being resumed (None: a new output); "auto" keeps it when usable.

    Returns:
        "torch" or "onnxruntime".

    Raises:
        InputError: an unknown name, or "onnxruntime" where it cannot run (the message says why and what to do).
    """
    if name not in BACKENDS:
        raise InputError(f"--backend must be one of {', '.join(BACKENDS)}, got {name!r}")
    if name == "torch":
        return "torch"
    why = _onnx_usable(model, device_type, compile_model)
    if name == "onnxruntime":
        if why is not None:
            raise InputError(f"--backend onnxruntime: {why}")
        return name
    if previous == "torch" or (previous == "onnxruntime" and why is None):
        return previous
    return "torch" if why is not None else "onnxruntime"


def network_key(net: nn.Module) -> str:
    """A hash of the network's architecture, weights and the exporter (torch version, opset): the cache key.

    Args:
        net: the network.

    Returns:
        16 hexadecimal digits.
    """
    h = hashlib.sha256(json.dumps([repr(net), torch.__version__, OPSET]).encode())
    for name, t in net.state_dict().items():
        h.update(name.encode() + str(tuple(t.shape)).encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def export_onnx(net: nn.Module) -> bytes:
    """The network as an ONNX model with dynamic batch, height and width.

    Args:
        net: (B, 3, H, W) -> (B, C, H, W), H and W multiples of the network's stride.

    Returns:
        The serialized model (input "rgb", output "raw").
    """
    buf = io.BytesIO()
    example = torch.zeros(1, 3, 64, 64)
    axes = {0: "batch", 2: "height", 3: "width"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's deprecation notice, and tracer notes on channel checks
        torch.onnx.export(net.eval().cpu(), (example,), buf, dynamo=False, input_names=["rgb"],
                          output_names=["raw"], dynamic_axes={"rgb": axes, "raw": axes}, opset_version=OPSET)
    return buf.getvalue()


def _session(data: bytes, threads: int):
    """An ONNX Runtime CPU session of ``data`` with ``threads`` intra-op threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3  # errors only
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def onnx_session(net: nn.Module, cache: Path | None = None, threads: int | None = None):
    """An ONNX Runtime session running ``net``, exported or read from ``cache``.

    Args:
        net: the network to run.
        cache: a folder for exported models (None: export in memory); a file there that cannot be loaded is
            exported again.
        threads: intra-op threads (None: torch's, which follows OMP_NUM_THREADS and the machine's cores).

    Returns:
        An ``onnxruntime.InferenceSession`` (input "rgb", output "raw").
    """
    threads = threads or torch.get_num_threads()
    path = Path(cache) / f"generator-{network_key(net)}.onnx" if cache is not None else None
    if path is not None and path.is_file():
        try:
            return _session(path.read_bytes(), threads)
        except Exception:  # onnxruntime raises its own types: a bad cache file is exported again
            pass
    data = export_onnx(net)
    if path is not None:
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    return _session(data, threads)


class OnnxNet(nn.Module):
    """A network run by ONNX Runtime in place of torch.

    Keeps the torch network (unused at inference) so the translator's parameters, device and ``state_dict``
    stay what they were.

    Args:
        net: the torch network it replaces.
        session: an ONNX Runtime session of ``net`` (:func:`onnx_session`).
    """

    backend = "onnxruntime"

    def __init__(self, net: nn.Module, session):
        super().__init__()
        self.torch_net = net
        self.session = session

    def forward(self, x: torch.Tensor, context=None) -> torch.Tensor:
        """Args: x (B, 3, H, W) float on the CPU; context: must be None (whole frames). Returns: the network's
        raw outputs (B, C, H, W) float32."""
        if context is not None:
            raise ValueError("the ONNX Runtime network translates whole frames only")
        rgb = x.detach().float().contiguous().numpy()
        return torch.from_numpy(self.session.run(["raw"], {"rgb": rgb})[0])


def use_backend(model: nn.Module, backend: str, *, cache: Path | None = None) -> nn.Module:
    """Make ``model`` translate with ``backend`` (in place).

    Args:
        model: a translator on the CPU for "onnxruntime".
        backend: "torch" (nothing changes) or "onnxruntime" (from :func:`resolve_backend`).
        cache: where exported networks are kept (see :func:`onnx_session`).

    Returns:
        ``model``.
    """
    if backend == "onnxruntime" and backend_name(model) != "onnxruntime":
        net, attr = network(model)
        owner = model.g if attr == "net" else model
        setattr(owner, attr, OnnxNet(net, onnx_session(net, cache)))
    return model


def backend_name(model: nn.Module) -> str:
    """The backend ``model`` translates with: "onnxruntime" after :func:`use_backend`, else "torch"."""
    return getattr(network(model)[0], "backend", "torch")
