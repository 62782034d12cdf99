"""Export a trained zoo model to ONNX or TorchScript, for serving without Python, Lightning or the zoo.

``export_model(task, "onnx", "lenet.onnx")`` writes the model's network (no loss, metrics or optimizer) as one
graph and checks the file before returning: it runs the written file (onnxruntime, or ``torch.jit.load``) on a new
input with a batch size, and for text a sequence length, different from the ones used to export, and compares the
outputs with the PyTorch model's. What the graph takes and returns depends on the kind of model:

==========================  =============================================  ==========================================
task (architectures)        inputs                                         outputs
==========================  =============================================  ==========================================
image classifiers           ``images`` float32 (batch, in_channels,        ``logits`` (batch, num_classes)
(LeNet ... ResNet18,        image_size, image_size), preprocessed as in
SoftmaxRegression, MLP,     training (the ``preprocess`` entry of the
RowRNN/RowLSTMClassifier)   metadata: resize, crop, mean, std)
language models             ``tokens`` int64 (batch, seq) and the state    ``logits`` (batch, seq, vocab) (bidirec-
(RNN/GRU/LSTMLanguageModel) ``h0`` float32 (layers x directions, batch,    tional: (batch, seq, 2, vocab)), ``h_n``
                            hidden) (LSTM: also ``c0``); zeros to start    (and ``c_n``): the state to feed back
text classifiers            ``tokens`` int64 (batch, seq); TextCNN needs   ``logits`` (batch, num_classes)
(BiRNN, TextCNN)            seq >= its widest kernel (pad with <pad>)
regression (LinearRegr.)    ``features`` float32 (batch, num_features)     ``prediction`` (batch,)
==========================  =============================================  ==========================================

The batch axis is dynamic in every graph, and so is the sequence axis of the text models: a file exported once
takes any batch size and any text length. Generation with an exported language model is the loop of
`zoo.tasks.language_model.LanguageModelTask.generate`: feed the prefix with a zero state, then one token at a time
with the returned state. Checkpoints of the other tasks (word2vec, translation) raise `ConfigError` naming what is
supported.

Every file carries its metadata as JSON (model class, inputs, outputs and the hyperparameters: vocabulary, class
names, preprocessing): in ONNX the ``zoo`` entry of the model's metadata (``onnxruntime.InferenceSession(f)
.get_modelmeta().custom_metadata_map["zoo"]``), in TorchScript the extra file ``zoo.json``
(``torch.jit.load(f, _extra_files={"zoo.json": ""})``).

Which exporter, and why:

* ONNX of fixed-size inputs (images, features) goes through torch.export (``torch.onnx.export(dynamo=True)``,
  PyTorch's default). For token sequences torch 2.14's torch.export-based exporter writes a GRU/LSTM graph whose
  reshapes keep the example's sequence length (measured: a file exported at length 5 fails at length 7 in
  onnxruntime), so text models use the TorchScript-based exporter (``dynamo=False``), whose ONNX RNN nodes take
  any length.
* TorchScript files are traced (``torch.jit.trace``), which records one path through Python control flow; the
  hand-written recurrent layers (`zoo.nets.recurrent.ScratchRecurrent`, a Python loop over time steps) would be
  traced for one sequence length, so both formats export them as their fused twins (``nn.GRU``, ``nn.LSTM``,
  ``nn.RNN``: same parameters, same outputs, checked by the comparison above).
"""

from __future__ import annotations

import copy
import io
import json
import warnings
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from zoo.errors import ConfigError
from zoo.files import atomic_path, check_output_file

__all__ = ["ATOL", "FORMATS", "SUPPORTED", "ExportResult", "GraphSpec", "export_model", "graph_spec",
           "read_metadata"]

FORMATS = ("onnx", "torchscript")
#: The kinds of model that export, for error messages and the README.
SUPPORTED = ("image classifiers (LeNet, AlexNet, VGG, NiN, GoogLeNet, ResNet18, DenseNet, LeNetBN, SoftmaxRegression, "
             "MLP, RowRNNClassifier, RowLSTMClassifier)", "language models (RNN/GRU/LSTMLanguageModel)",
             "text classifiers (BiRNN, TextCNN)", "LinearRegression")
#: Largest difference accepted between the written file's outputs and the PyTorch model's.
ATOL = 1e-5


@dataclass
class GraphSpec:
    """What is exported: ``module`` traced on ``example``; the written file must match ``reference`` (the model as
    trained, in eval mode) on ``check``, inputs of other sizes."""

    module: nn.Module
    reference: nn.Module
    example: tuple[torch.Tensor, ...]
    check: tuple[torch.Tensor, ...]
    input_names: list[str]
    output_names: list[str]
    dynamic: dict[str, dict[int, str]]  # input name -> {axis: name} of its dynamic axes
    sequence: bool  # token sequences: the TorchScript-based ONNX exporter (see the module docstring)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class ExportResult:
    path: Path
    fmt: str
    max_abs_diff: float | None  # None when the check was skipped
    checked_shapes: dict[str, tuple[int, ...]]  # the inputs of the check, other sizes than the export's
    metadata: dict[str, Any]  # what the file carries (see the module docstring)


# ---------------------------------------------------------------- graphs per kind of model
class _LanguageModelGraph(nn.Module):
    """(tokens, h0[, c0]) -> (logits, h_n[, c_n]): `RecurrentLM` with its state as plain tensors."""

    def __init__(self, net: nn.Module, lstm: bool) -> None:
        super().__init__()
        self.net, self.lstm = net, lstm

    def forward(self, tokens: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor | None = None):
        if self.lstm:
            logits, (h_n, c_n) = self.net(tokens, (h0, c0))
            return logits, h_n, c_n
        return self.net(tokens, h0)


class _TextClassifierGraph(nn.Module):
    """tokens -> logits: the padded-batch path of the text classifiers (no lengths)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.net(tokens, None)


class _RegressionGraph(nn.Module):
    """features (B, F) -> prediction (B,), as `RegressionTask.forward`."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net(features).squeeze(-1)


def _spec(task, wrap: Callable[[nn.Module], nn.Module], *fields: Any, **named: Any) -> GraphSpec:
    """A `GraphSpec` whose module is ``wrap`` around the fused twin of ``task.net``, its reference ``wrap`` around a
    copy of ``task.net`` itself (both in eval mode; ``task`` is left as it was)."""
    return GraphSpec(wrap(fused_twin(task.net)).eval(), wrap(copy.deepcopy(task.net)).eval(), *fields, **named)


def fused_twin(net: nn.Module) -> nn.Module:
    """A copy of ``net`` in eval mode whose hand-written recurrent layers are replaced by ``nn.RNN``/``nn.GRU``/
    ``nn.LSTM`` holding the same parameters (`ScratchRecurrent` keeps PyTorch's layout, so the state dict loads)."""
    from zoo.nets.recurrent import ScratchRecurrent, make_recurrent

    net = copy.deepcopy(net).eval()
    for parent in list(net.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, ScratchRecurrent):
                fused = make_recurrent(child.mode, "fused", child.input_size, child.hidden_size, child.num_layers,
                                       child.bidirectional, child.dropout)
                fused.load_state_dict(child.state_dict())
                setattr(parent, name, fused.eval())
    return net


def _image_spec(task) -> GraphSpec:
    hp = task.hparams
    shape = (hp.in_channels, hp.image_size, hp.image_size)
    gen = torch.Generator().manual_seed(0)
    return _spec(task, lambda net: net, (torch.rand(2, *shape, generator=gen),),
                 (torch.rand(3, *shape, generator=gen),), ["images"], ["logits"], {"images": {0: "batch"}},
                 sequence=False,
                 metadata={"inputs": {"images": f"float32 (batch, {', '.join(map(str, shape))}), preprocessed as "
                                      "'preprocess' says (None: values in [0, 1], resized to image_size)"},
                           "outputs": {"logits": f"float32 (batch, {hp.num_classes})"}})


def _language_model_spec(task) -> GraphSpec:
    hp, net = task.hparams, task.net
    rnn = net.rnn
    lstm = isinstance(rnn, nn.LSTM) or getattr(rnn, "mode", None) == "lstm"
    layers = rnn.num_layers * (2 if rnn.bidirectional else 1)
    vocab = len(task.vocab)
    gen = torch.Generator().manual_seed(0)

    def inputs(batch: int, steps: int, state_scale: float) -> tuple[torch.Tensor, ...]:
        tokens = torch.randint(0, vocab, (batch, steps), generator=gen)
        states = [torch.randn(layers, batch, rnn.hidden_size, generator=gen) * state_scale for _ in range(1 + lstm)]
        return (tokens, *states)

    names = ["tokens", "h0", "c0"][:2 + lstm]
    outputs = ["logits", "h_n", "c_n"][:2 + lstm]
    dynamic = {"tokens": {0: "batch", 1: "seq"}, **{n: {1: "batch"} for n in names[1:]}}
    logits = f"(batch, seq, 2, {vocab})" if hp.get("bidirectional") else f"(batch, seq, {vocab})"
    state = f"float32 ({layers}, batch, {rnn.hidden_size})"
    return _spec(task, lambda n: _LanguageModelGraph(n, lstm), inputs(2, 5, 0.0), inputs(3, 7, 0.5), names, outputs,
                 dynamic, sequence=True,
                 metadata={"inputs": {"tokens": "int64 (batch, seq), ids into 'vocab'",
                                      **dict.fromkeys(names[1:], state + ", zeros for a new text")},
                           "outputs": {"logits": f"float32 {logits}, next-token scores",
                                       **{n: state + ", feed back as " + i for n, i in zip(outputs[1:],
                                                                                             names[1:])}}})


def _text_classifier_spec(task) -> GraphSpec:
    hp, net = task.hparams, task.net
    if getattr(net, "packed", False):
        raise ConfigError(f"{type(task).__name__} was trained with packed=True, which reads each review's own length; "
                          "the exported graph takes padded token batches only, so export a model trained with "
                          "packed=False")
    shortest = getattr(net, "min_length", 1)
    gen = torch.Generator().manual_seed(0)
    vocab = len(task.vocab)
    example = torch.randint(0, vocab, (2, max(8, shortest)), generator=gen)
    check = torch.randint(0, vocab, (3, max(8, shortest) + 3), generator=gen)
    return _spec(task, _TextClassifierGraph, (example,), (check,), ["tokens"], ["logits"],
                 {"tokens": {0: "batch", 1: "seq"}}, sequence=True,
                 metadata={"inputs": {"tokens": f"int64 (batch, seq >= {shortest}), ids into 'vocab', padded "
                                                "with '<pad>'"},
                           "outputs": {"logits": f"float32 (batch, {len(hp.classes)})"}})


def _regression_spec(task) -> GraphSpec:
    features = task.hparams.num_features
    gen = torch.Generator().manual_seed(0)
    return _spec(task, _RegressionGraph, (torch.randn(2, features, generator=gen),),
                 (torch.randn(3, features, generator=gen),), ["features"], ["prediction"],
                 {"features": {0: "batch"}}, sequence=False,
                 metadata={"inputs": {"features": f"float32 (batch, {features}), scaled as in training"},
                           "outputs": {"prediction": "float32 (batch,)"}})


def _spec_builders() -> list[tuple[type, Callable[[Any], GraphSpec]]]:
    from zoo.tasks.classification import ImageClassificationTask
    from zoo.tasks.language_model import LanguageModelTask
    from zoo.tasks.regression import RegressionTask
    from zoo.tasks.text_classification import TextClassificationTask

    return [(ImageClassificationTask, _image_spec), (LanguageModelTask, _language_model_spec),
            (TextClassificationTask, _text_classifier_spec), (RegressionTask, _regression_spec)]


def graph_spec(task) -> GraphSpec:
    """The graph to export for ``task``, with example inputs; `ConfigError` for a model that does not export."""
    for base, build in _spec_builders():
        if isinstance(task, base):
            spec = build(task)
            cls = type(task)
            hparams = json.loads(json.dumps(dict(task.hparams), default=str))  # primitives only
            spec.metadata = {"zoo_class": f"{cls.__module__}:{cls.__qualname__}", **spec.metadata, "hparams": hparams}
            return spec
    raise ConfigError(f"{type(task).__name__} cannot be exported: export supports {'; '.join(SUPPORTED)}")


# ---------------------------------------------------------------- writing and checking
@contextmanager
def _quiet():
    """Silence the exporters' notes that do not concern the result (deprecation of the TorchScript paths, tracer
    warnings about shapes taken as constants, which the comparison at other sizes checks)."""
    with warnings.catch_warnings():
        for category in (DeprecationWarning, FutureWarning, UserWarning, torch.jit.TracerWarning):
            warnings.simplefilter("ignore", category)
        yield


def _onnx_bytes(spec: GraphSpec) -> bytes:
    try:
        import onnx
    except ImportError as exc:
        raise ConfigError("ONNX export needs the onnx package: pip install onnx onnxscript onnxruntime (or "
                          "pip install 'lightning-zoo[export]')") from exc
    try:
        with _quiet():
            proto = _onnx_proto(spec, onnx)
    except ImportError as exc:  # the torch.export-based exporter imports onnxscript
        raise ConfigError(f"ONNX export needs {exc.name or 'onnxscript'}: pip install onnx onnxscript "
                          "onnxruntime") from exc
    entry = proto.metadata_props.add()
    entry.key, entry.value = "zoo", json.dumps(spec.metadata, ensure_ascii=False)
    return proto.SerializeToString()


def _onnx_proto(spec: GraphSpec, onnx):
    if spec.sequence:
        buffer = io.BytesIO()
        torch.onnx.export(spec.module, spec.example, buffer, dynamo=False, input_names=spec.input_names,
                          output_names=spec.output_names, dynamic_axes=spec.dynamic, opset_version=17)
        return onnx.load_from_string(buffer.getvalue())
    dims = dict.fromkeys(spec.dynamic[spec.input_names[0]], torch.export.Dim.DYNAMIC)
    program = torch.onnx.export(spec.module, spec.example, dynamo=True, input_names=spec.input_names,
                                output_names=spec.output_names, dynamic_shapes=(dims,), verbose=False)
    return program.model_proto


def _torchscript_bytes(spec: GraphSpec) -> bytes:
    with _quiet():
        traced = torch.jit.trace(spec.module, spec.example, check_trace=False)
        buffer = io.BytesIO()
        torch.jit.save(traced, buffer, _extra_files={"zoo.json": json.dumps(spec.metadata, ensure_ascii=False)})
    return buffer.getvalue()


def _run_file(path: Path, fmt: str, spec: GraphSpec) -> list[torch.Tensor]:
    """Outputs of the written file on ``spec.check``."""
    if fmt == "torchscript":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            loaded = torch.jit.load(str(path), map_location="cpu")
        outputs = loaded(*spec.check)
    else:
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        feed = {name: tensor.numpy() for name, tensor in zip(spec.input_names, spec.check)}
        outputs = [torch.from_numpy(array) for array in session.run(None, feed)]
    return list(outputs) if isinstance(outputs, (tuple, list)) else [outputs]


def _max_difference(path: Path, fmt: str, spec: GraphSpec) -> float:
    with torch.no_grad():
        expected = spec.reference(*spec.check)
        got = _run_file(path, fmt, spec)
    expected = list(expected) if isinstance(expected, (tuple, list)) else [expected]
    if len(got) != len(expected) or any(g.shape != e.shape for g, e in zip(got, expected)):
        raise ConfigError(f"the exported {path} returns shapes {[tuple(g.shape) for g in got]} for inputs "
                          f"{[tuple(t.shape) for t in spec.check]}, the model {[tuple(e.shape) for e in expected]}")
    return max(float((g.float() - e.float()).abs().max()) for g, e in zip(got, expected))


def export_model(task, fmt: str, out: str | Path, *, force: bool = False, check: bool = True,
                 inputs: Sequence[str | Path] = ()) -> ExportResult:
    """Write ``task``'s network to ``out`` as ``fmt`` (``"onnx"`` or ``"torchscript"``); see the module docstring.

    ``out`` is checked first (`zoo.files.check_output_file`): not a folder, not through a file, in a folder that can
    be written, and never one of ``inputs`` (the checkpoint it was read from, by name or link), even with
    ``force``. The folder of ``out`` is created; an existing file is kept unless ``force``. The graph is written to
    a temporary file beside ``out``; with ``check`` (the default) that file is run on inputs of other sizes than the
    export's and must give the PyTorch model's outputs to `ATOL`, else `ConfigError`. Only then does it take the name
    ``out``, so a failed export leaves no file and an existing one untouched. Without onnxruntime an ONNX file is
    written unchecked (``max_abs_diff`` None).
    """
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    out = check_output_file(out, replace=force, inputs=inputs, example="model." + _suffix(fmt))
    spec = graph_spec(task)
    data = _onnx_bytes(spec) if fmt == "onnx" else _torchscript_bytes(spec)
    shapes = {name: tuple(t.shape) for name, t in zip(spec.input_names, spec.check)}
    try:
        with atomic_path(out) as tmp:  # a graph that fails its check is never written
            tmp.write_bytes(data)
            diff = _max_difference(tmp, fmt, spec) if check and _can_run(fmt) else None
            if diff is not None and not diff <= ATOL:
                raise ConfigError(f"the exported {fmt} graph of {type(task).__name__} differs from the model by "
                                  f"{diff:.3g} (more than {ATOL:g}) on inputs {shapes}; nothing was written")
    except OSError as exc:
        raise ConfigError(f"cannot write {out}: {exc.strerror or exc}") from exc
    return ExportResult(out, fmt, diff, shapes, spec.metadata)


def _can_run(fmt: str) -> bool:
    if fmt == "torchscript":
        return True
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _suffix(fmt: str) -> str:
    return "onnx" if fmt == "onnx" else "pt"


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The zoo metadata (class, inputs, outputs, hyperparameters) stored in an exported ONNX or TorchScript file."""
    path = Path(path)
    if path.suffix == ".onnx":
        import onnx

        props = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
        return json.loads(props["zoo"])
    extra = {"zoo.json": ""}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    return json.loads(extra["zoo.json"])
