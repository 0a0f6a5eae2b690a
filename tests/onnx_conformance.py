"""The ONNX backend test data that the onnx wheel ships, run through `netdsl import` and the NumPy backend,
and again through netdsl's own ONNX export and onnxruntime: each case passes, or is unsupported with the
reason the importer gives (an op or a rank outside the language). A numeric failure is a bug."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RTOL, ATOL = 1e-3, 1e-7  # the suite's own tolerances (onnx.backend.test.loader)
FAMILIES = ("light", "pytorch-converted", "pytorch-operator")


@dataclass(frozen=True)
class Case:
    family: str
    name: str
    model: Path
    inputs: list[Path]
    outputs: list[Path]


@dataclass(frozen=True)
class Outcome:
    case: Case
    result: str  # "passed", "unsupported" or "FAILED"
    reason: str = ""

    def row(self) -> str:
        return f"| {self.case.family}/{self.case.name} | {self.result} | {self.reason} |"


def data_root() -> Path:
    import onnx

    return Path(os.path.dirname(onnx.__file__)) / "backend" / "test" / "data"


def cases() -> list[Case]:
    root = data_root()
    found = []
    for model in sorted((root / "light").glob("*.onnx")):
        outputs = sorted(model.parent.glob(f"{model.stem}_output_*.pb"))
        found.append(Case("light", model.stem.removeprefix("light_"), model, [], outputs))
    for family in FAMILIES[1:]:
        for folder in sorted((root / family).iterdir()):
            data = folder / "test_data_set_0"
            found.append(
                Case(
                    family,
                    folder.name,
                    folder / "model.onnx",
                    sorted(data.glob("input_*.pb")),
                    sorted(data.glob("output_*.pb")),
                )
            )
    return found


def read_tensor(path: Path) -> np.ndarray:
    import onnx
    from onnx import numpy_helper

    tensor = onnx.TensorProto()
    tensor.ParseFromString(path.read_bytes())
    return numpy_helper.to_array(tensor)


def light_input(model: Path) -> np.ndarray:
    """The runner's dummy input for the light models: arange(n) / n in the declared shape."""
    import onnx

    proto = onnx.load(str(model), load_external_data=False)
    constants = {t.name for t in proto.graph.initializer}
    value = next(i for i in proto.graph.input if i.name not in constants)
    shape = tuple(d.dim_value or 1 for d in value.type.tensor_type.shape.dim)
    n = int(np.prod(shape))
    return (np.arange(n).reshape(shape) / n).astype(np.float32)


def _compare(what: str, actual: np.ndarray, expected: np.ndarray) -> str:
    if actual.shape != expected.shape:
        actual = actual.reshape(expected.shape) if actual.size == expected.size else actual
    if actual.shape != expected.shape:
        return f"{what}: shape {actual.shape}, expected {expected.shape}"
    if not np.allclose(actual, expected, rtol=RTOL, atol=ATOL):
        worst = float(np.max(np.abs(actual - expected)))
        return f"{what}: max difference {worst:.3g} above rtol {RTOL:g}, atol {ATOL:g}"
    return ""


def run(case: Case) -> Outcome:
    try:
        return _run(case)
    except Exception as err:  # a crash is a failure of the case, reported with the rest
        return Outcome(case, "FAILED", f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}")


def _run(case: Case) -> Outcome:
    import onnxruntime

    import netdsl
    from netdsl.backends.numpy.executor import Executor
    from netdsl.backends.onnx.export import build_model
    from netdsl.importer import OnnxImportError, import_onnx

    if len(case.inputs) > 1 or len(case.outputs) != 1:
        return Outcome(
            case,
            "unsupported",
            f"{len(case.inputs)} inputs and {len(case.outputs)} outputs (netdsl networks have one of each)",
        )
    x = light_input(case.model) if case.family == "light" else read_tensor(case.inputs[0])
    expected = read_tensor(case.outputs[0])
    try:
        text, weights = import_onnx(case.model)
    except OnnxImportError as err:
        reason = str(err).splitlines()[0].replace(f"{case.model}: ", "")
        return Outcome(case, "unsupported", reason.replace("|", "/"))
    model = netdsl.loads(text, file=str(case.model))
    executor = Executor(model.graph, dtype=np.float32)
    executor.load_state_dict(weights)
    problem = _compare("NumPy backend", executor.predict(x.astype(np.float32)), expected)
    if not problem:
        exported = build_model(model.graph, weights).SerializeToString()
        session = onnxruntime.InferenceSession(exported, providers=["CPUExecutionProvider"])
        problem = _compare(
            "netdsl export + onnxruntime", session.run(None, {session.get_inputs()[0].name: x})[0], expected
        )
    return Outcome(case, "FAILED", problem) if problem else Outcome(case, "passed")


def table(outcomes: list[Outcome]) -> str:
    passed = sum(o.result == "passed" for o in outcomes)
    lines = ["| case | result | reason |", "|---|---|---|", *(o.row() for o in outcomes)]
    return "\n".join(lines) + f"\n\n{passed} of {len(outcomes)} cases pass; the others are unsupported.\n"


if __name__ == "__main__":
    import sys

    chosen = [c for c in cases() if not sys.argv[1:] or c.family in sys.argv[1:]]
    print(table([run(c) for c in chosen]))
