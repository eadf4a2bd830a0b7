"""OnnxOptions and resolve_options: defaults, mappings, refusals naming the key."""

from __future__ import annotations

import pytest

from ptychopinn.errors import ConfigError
from ptychopinn_onnx.options import MIN_OPSET, OnnxOptions, resolve_options


def test_defaults() -> None:
    opts = resolve_options(None)
    assert opts == OnnxOptions()
    assert opts.providers == ("CPUExecutionProvider",)
    assert opts.opset == MIN_OPSET >= 17
    assert opts.inference_chunk_size == 16


def test_dataclass_passes_through_and_is_frozen() -> None:
    opts = OnnxOptions(intra_op_num_threads=2)
    assert resolve_options(opts) is opts
    with pytest.raises(AttributeError):
        opts.intra_op_num_threads = 3  # type: ignore[misc]


def test_mapping_from_a_config_file() -> None:
    opts = resolve_options({"providers": ["CUDAExecutionProvider", "CPUExecutionProvider"], "intra_op_num_threads": 1})
    assert opts.providers == ("CUDAExecutionProvider", "CPUExecutionProvider")
    assert opts.intra_op_num_threads == 1


def test_unknown_key_is_named() -> None:
    with pytest.raises(ConfigError, match="'threads'.*known: .*intra_op_num_threads"):
        resolve_options({"threads": 1})


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"providers": "CPUExecutionProvider"}, "providers"),
        ({"providers": ()}, "providers"),
        ({"intra_op_num_threads": 0}, "intra_op_num_threads"),
        ({"inter_op_num_threads": True}, "inter_op_num_threads"),
        ({"inference_chunk_size": 1.5}, "inference_chunk_size"),
        ({"graph_optimization_level": "max"}, "graph_optimization_level"),
        ({"opset": 11}, "opset"),
    ],
)
def test_invalid_values_are_named(values: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError, match=f"OnnxOptions.{field}"):
        resolve_options(values)


def test_other_types_are_refused() -> None:
    with pytest.raises(ConfigError, match="OnnxOptions or a mapping, got list"):
        resolve_options([("opset", 17)])
