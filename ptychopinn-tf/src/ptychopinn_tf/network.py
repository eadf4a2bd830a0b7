"""The PtychoPINN encoder/decoder CNN of ``docs/architecture-model.md`` in Keras 3 (channels-last).

:class:`Generator` maps network-unit amplitudes ``(B, N, N, C)`` to ``amp`` and ``phase``
``(B, N, N, C_out)`` float32. :meth:`Generator.canonical_variables` lists every weight under its
canonical name; :mod:`ptychopinn_tf.weights` converts the kernel layout.
"""

from __future__ import annotations

import math

import numpy as np
from ptychopinn.config import ModelConfig
from ptychopinn.physics import center_window

from ptychopinn_tf._env import tf_keras
from ptychopinn_tf.weights import BORDER_CHANNELS, decoder_widths, encoder_widths

tf, keras = tf_keras()

__all__ = ["Generator"]


class _Seeds:
    """Deterministic, distinct initialiser seeds (no global random state)."""

    def __init__(self, seed: int) -> None:
        self._next = seed * 1000

    def __call__(self) -> int:
        self._next += 1
        return self._next


def _conv(filters: int, name: str, seeds: _Seeds, dtype) -> keras.layers.Conv2D:
    return keras.layers.Conv2D(
        filters,
        3,
        padding="same",
        use_bias=True,
        kernel_initializer=keras.initializers.GlorotUniform(seed=seeds()),
        bias_initializer="zeros",
        name=name.replace(".", "_"),
        dtype=dtype,
    )


class _ConvBlock(keras.layers.Layer):
    """conv3x3(f) -> ReLU -> conv3x3(f) -> ReLU."""

    def __init__(self, filters: int, name: str, seeds: _Seeds, dtype) -> None:
        super().__init__(name=name.replace(".", "_"), dtype=dtype)
        self.conv0 = _conv(filters, f"{name}.conv0", seeds, dtype)
        self.conv1 = _conv(filters, f"{name}.conv1", seeds, dtype)
        self.canonical = name

    def call(self, x):
        return tf.nn.relu(self.conv1(tf.nn.relu(self.conv0(x))))

    def named_convs(self) -> list[tuple[str, keras.layers.Conv2D]]:
        return [(f"{self.canonical}.conv0", self.conv0), (f"{self.canonical}.conv1", self.conv1)]


def _up(x):
    """x2 nearest-neighbour upsampling, channels-last."""
    return tf.repeat(tf.repeat(x, 2, axis=1), 2, axis=2)


def _pool(x):
    return tf.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID")


class _Head(keras.layers.Layer):
    """Amplitude or phase head (central + border branches, or the full-resolution head)."""

    def __init__(self, config: ModelConfig, branch: str, seeds: _Seeds, dtype) -> None:
        super().__init__(name=f"head_{branch}", dtype=dtype)
        N, n = config.N, config.n_filters_scale
        c_out = config.channels if config.object_big else 1
        self.N = N
        self.branch = branch
        self.pad_object = config.pad_object
        self.probe_big = config.probe_big
        self.activation = config.amp_activation if branch == "amp" else "pi_tanh"
        prefix = f"head_{branch}"
        self.named: list[tuple[str, keras.layers.Conv2D]] = []
        if config.pad_object:
            self.central = _conv(c_out, f"{prefix}.central", seeds, dtype)
            self.named.append((f"{prefix}.central", self.central))
            if config.probe_big:
                self.border = _ConvBlock(2048 // N * n, f"{prefix}.border", seeds, dtype)
                self.border_out = _conv(c_out, f"{prefix}.border.out", seeds, dtype)
                self.named += [*self.border.named_convs(), (f"{prefix}.border.out", self.border_out)]
                mask = 1.0 - center_window(N)
                self.border_mask = tf.constant(mask[None, :, :, None], dtype=tf.float32)
        else:
            self.full = _ConvBlock(32 * n, f"{prefix}.full", seeds, dtype)
            self.full_out = _conv(c_out, f"{prefix}.full.out", seeds, dtype)
            self.named += [*self.full.named_convs(), (f"{prefix}.full.out", self.full_out)]

    def _activate(self, x):
        x = tf.cast(x, tf.float32)
        if self.activation == "pi_tanh":
            return math.pi * tf.tanh(x)
        if self.activation == "sigmoid":
            return tf.sigmoid(x)
        if self.activation == "swish":
            return x * tf.sigmoid(x)
        if self.activation == "softplus":
            return tf.nn.softplus(x)
        return tf.nn.relu(x)

    def call(self, features):
        if not self.pad_object:
            return self._activate(self.full_out(_up(self.full(features))))
        central = self._activate(self.central(features[..., : features.shape[-1] - BORDER_CHANNELS]))
        q = self.N // 4
        out = tf.pad(central, [[0, 0], [q, q], [q, q], [0, 0]])
        if self.probe_big:
            border = tf.cast(self.border_out(_up(self.border(features[..., -BORDER_CHANNELS:]))), tf.float32)
            out = out + border * tf.sigmoid(border) * self.border_mask
        return out


class Generator(keras.Model):
    """Encoder, two decoders and the amplitude/phase heads.

    Parameters
    ----------
    config : ModelConfig
    seed : int
        Seed of the Glorot-uniform kernel initialisers (biases start at zero).
    dtype_policy : str
        Keras dtype policy of the layers (``"float32"``, ``"mixed_bfloat16"``, ...); the heads'
        activations and outputs are float32.

    Call
    ----
    x : (B, N, N, C) float32, network-unit amplitudes (channels-last)
    returns ``(amp, phase)``, each (B, N, N, C_out) float32.
    """

    def __init__(self, config: ModelConfig, *, seed: int = 0, dtype_policy: str = "float32") -> None:
        super().__init__(name="generator", dtype=dtype_policy)
        seeds = _Seeds(seed)
        N, n = config.N, config.n_filters_scale
        self.config_ = config
        self.encoder = [_ConvBlock(f, f"encoder.{i}", seeds, dtype_policy) for i, f in enumerate(encoder_widths(N, n))]
        self.decoder_amp = [
            _ConvBlock(f, f"decoder_amp.{j}", seeds, dtype_policy) for j, f in enumerate(decoder_widths(N, n))
        ]
        self.decoder_phase = [
            _ConvBlock(f, f"decoder_phase.{j}", seeds, dtype_policy) for j, f in enumerate(decoder_widths(N, n))
        ]
        self.head_amp = _Head(config, "amp", seeds, dtype_policy)
        self.head_phase = _Head(config, "phase", seeds, dtype_policy)

    def call(self, x):
        h = x
        for block in self.encoder:
            h = _pool(block(h))
        a = p = h
        for block in self.decoder_amp:
            a = _up(block(a))
        for block in self.decoder_phase:
            p = _up(block(p))
        return self.head_amp(a), self.head_phase(p)

    def build_variables(self) -> None:
        """Create every variable by running one zero batch."""
        cfg = self.config_
        self(tf.zeros((1, cfg.N, cfg.N, cfg.channels), tf.float32))

    def named_convs(self) -> list[tuple[str, keras.layers.Conv2D]]:
        """(canonical prefix, Conv2D) for every convolution, in a fixed order."""
        out: list[tuple[str, keras.layers.Conv2D]] = []
        for block in [*self.encoder, *self.decoder_amp, *self.decoder_phase]:
            out += block.named_convs()
        return out + self.head_amp.named + self.head_phase.named

    def get_canonical(self) -> dict[str, np.ndarray]:
        """Canonical name -> array in the stored layout (OIHW kernels), float32."""
        out: dict[str, np.ndarray] = {}
        for prefix, conv in self.named_convs():
            kernel = np.asarray(conv.kernel.numpy(), dtype=np.float32)
            out[f"{prefix}.weight"] = np.ascontiguousarray(np.transpose(kernel, (3, 2, 0, 1)))
            out[f"{prefix}.bias"] = np.asarray(conv.bias.numpy(), dtype=np.float32)
        return out

    def set_canonical(self, weights) -> None:
        """Assign canonical weights (OIHW kernels) to the Keras variables (HWIO)."""
        for prefix, conv in self.named_convs():
            kernel = np.asarray(weights[f"{prefix}.weight"], dtype=np.float32)
            conv.kernel.assign(np.ascontiguousarray(np.transpose(kernel, (2, 3, 1, 0))))
            conv.bias.assign(np.asarray(weights[f"{prefix}.bias"], dtype=np.float32))
