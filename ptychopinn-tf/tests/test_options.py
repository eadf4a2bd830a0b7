"""TFOptions: frozen, mapping accepted, unknown keys rejected by name."""

from __future__ import annotations

import dataclasses

import pytest
from ptychopinn.errors import ConfigError

from ptychopinn_tf.options import TFOptions, resolve_options


def test_defaults_and_frozen():
    opts = resolve_options(None)
    assert opts == TFOptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.precision = "mixed_bfloat16"  # type: ignore[misc]


def test_mapping_is_accepted():
    opts = resolve_options({"precision": "mixed_bfloat16", "strategy": "mirrored", "devices": ["/cpu:0"]})
    assert opts.precision == "mixed_bfloat16" and opts.devices == ("/cpu:0",)
    assert resolve_options(opts) is opts


def test_unknown_key_is_named():
    with pytest.raises(ConfigError, match="'precison'"):
        resolve_options({"precison": "float32"})


@pytest.mark.parametrize(
    "kwargs",
    [
        {"precision": "float64"},
        {"strategy": "tpu"},
        {"strategy": "one_device"},
        {"devices": "/gpu:0"},
        {"verbose": -1},
        {"jit_compile": "yes"},
        {"intra_op_threads": 0},
        {"inference_chunk_size": 0},
        {"data_autotune": 1},
    ],
)
def test_bad_values_are_config_errors(kwargs):
    with pytest.raises(ConfigError):
        TFOptions(**kwargs)


def test_no_predictor_cache_option_any_more():
    """Core caches predictors (API 2.0): the backend's old cache_size option is an unknown key."""
    with pytest.raises(ConfigError, match="'cache_size'"):
        resolve_options({"cache_size": 4})


def test_other_types_rejected():
    with pytest.raises(ConfigError, match="TFOptions"):
        resolve_options(["precision"])


def test_core_refuses_another_backends_options():
    """Options of another backend fail at selection, naming both backends (no other backend installed)."""
    import dataclasses

    import ptychopinn

    @dataclasses.dataclass(frozen=True)
    class ForeignOptions:
        backend = "pytorch"

    with pytest.raises(ConfigError, match="'pytorch'.*'tensorflow'"):
        ptychopinn.get_backend("tensorflow").resolve_options(ForeignOptions())
    assert ptychopinn.get_backend("tensorflow").resolve_options(TFOptions(precision="float32")) == TFOptions()
