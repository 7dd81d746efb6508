"""The transmittance (sparsity) regulariser stops growth without eroding the starting avatar."""
import torch

from pipeline.guidance.base import TransmittanceRegulariser
from pipeline.guidance.config import GuidanceConfig


def grad_of(reg: TransmittanceRegulariser, coverage: float) -> float:
    """d loss / d coverage at a uniform opacity ``coverage`` (> 0: the loss wants less coverage)."""
    acc = torch.full((4, 8, 8), coverage, requires_grad=True)
    loss, _ = reg(acc)
    loss.backward()
    return float(acc.grad.sum())


def test_no_push_to_erode_the_start_but_growth_beyond_the_slack_is_pushed_back():
    reg = TransmittanceRegulariser(GuidanceConfig())
    assert grad_of(reg, 0.25) == 0.0  # the avatar refinement starts from covers 25% of the views
    assert abs(reg.target - (0.75 - GuidanceConfig().transmittance_slack)) < 1e-6
    assert grad_of(reg, 0.26) == 0.0  # within the slack
    assert grad_of(reg, 0.30) > 0  # grown by 5 points: pushed back


def test_a_sparse_start_keeps_the_fixed_target():
    reg = TransmittanceRegulariser(GuidanceConfig())
    grad_of(reg, 0.05)
    assert reg.target == GuidanceConfig().transmittance_target


def test_negative_slack_is_dreamfields_fixed_target_which_erodes_a_large_avatar():
    reg = TransmittanceRegulariser(GuidanceConfig(transmittance_slack=-1))
    assert grad_of(reg, 0.25) > 0
    assert reg.target == GuidanceConfig().transmittance_target
