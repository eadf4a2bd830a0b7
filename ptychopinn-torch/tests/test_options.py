"""``TorchOptions`` and ``resolve_options``: mappings, unknown keys, invalid values, ownership."""

from __future__ import annotations

import pytest

from ptychopinn.errors import ConfigError
from ptychopinn_torch import _plugin
from ptychopinn_torch.options import TorchOptions, resolve_options


def test_options_from_mapping_none_and_dataclass() -> None:
    opts = resolve_options({"accelerator": "cpu", "devices": 2, "strategy": "ddp", "num_threads": 1})
    assert opts == TorchOptions(accelerator="cpu", devices=2, strategy="ddp", num_threads=1)
    assert opts.trainer_kwargs()["strategy"] == "ddp"
    assert resolve_options(None) == TorchOptions()
    assert resolve_options(opts) is opts
    assert _plugin.PLUGIN.ptychopinn_resolve_options(options={"num_workers": 2}) == TorchOptions(num_workers=2)


def test_unknown_key_and_wrong_type_are_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="'acclerator'"):
        resolve_options({"acclerator": "gpu"})
    with pytest.raises(ConfigError, match="TorchOptions"):
        resolve_options(42)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("num_workers", -1),
        ("num_nodes", 0),
        ("num_threads", 0),
        ("inference_chunk_size", 0),
        ("inference_chunk_size", 2.5),
        ("inference_chunk_size", True),
        ("deterministic", "yes"),
    ],
)
def test_invalid_values_name_the_key(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=key):
        TorchOptions(**{key: value})


def test_options_are_frozen_and_declare_their_backend() -> None:
    import dataclasses

    opts = TorchOptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.num_threads = 2  # type: ignore[misc]
    assert TorchOptions.backend == "pytorch"
    assert "backend" not in {f.name for f in dataclasses.fields(TorchOptions)}


def test_core_refuses_another_backends_options() -> None:
    """Options of another backend fail at selection, naming both backends (no other backend installed)."""
    import dataclasses

    from ptychopinn.api import get_backend

    @dataclasses.dataclass(frozen=True)
    class ForeignOptions:
        backend = "tensorflow"

    with pytest.raises(ConfigError, match="'tensorflow'.*'pytorch'"):
        get_backend("pytorch").resolve_options(ForeignOptions())
    assert get_backend("pytorch").resolve_options(TorchOptions(num_threads=1)) == TorchOptions(num_threads=1)
