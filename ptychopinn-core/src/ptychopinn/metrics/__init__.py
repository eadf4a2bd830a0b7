"""Reconstruction quality: registration, alignment, SSIM/PSNR/MAE, FRC (``ptychopinn evaluate``)."""

from ptychopinn.metrics.alignment import Alignment, align
from ptychopinn.metrics.evaluate import evaluate, score_alignment
from ptychopinn.metrics.frc import FRCResult, frc
from ptychopinn.metrics.image import mae, psnr, ssim, ssim_map
from ptychopinn.metrics.registration import fourier_shift, register_translation

__all__ = [
    "Alignment",
    "FRCResult",
    "align",
    "evaluate",
    "fourier_shift",
    "frc",
    "mae",
    "psnr",
    "register_translation",
    "score_alignment",
    "ssim",
    "ssim_map",
]
