"""``avatarforge eval --prompts``: R-precision of generated avatars under the independent evaluator."""
import pytest

from pipeline.config import resolve_config
from pipeline.eval_cli import DEFAULT_PROMPTS, r_precision_report, read_prompt_file

N = 8  # the first prompts of the shipped held-out file


@pytest.fixture(scope="module")
def rows():
    return read_prompt_file(DEFAULT_PROMPTS)[:N]


@pytest.mark.parametrize("render", ["field", "mesh"])
def test_amortised_avatars_retrieve_their_own_prompts(rows, render):
    cfg = resolve_config("tiny")
    r = r_precision_report(rows, cfg, ["template", "amortised"], 2, True, render)
    assert r["render"] == render and r["n_prompts"] == N
    # chance is 1/8; every prompt gets the same neutral template, so its row stays near chance
    # (the mesh path's texturer reads the prompt, which lifts it a little)
    assert r["amortised"] >= 0.75, r
    assert r["amortised"] >= r["template"] + 0.375, r
    assert r["ceiling"] >= 0.5, r  # ground truth through the same path retrieves its prompt too
    for row in ("ceiling", "template", "amortised"):  # which prompt each avatar retrieved, for diagnosis
        got = r["retrieved"][row]
        assert len(got) == N and sum(g == i for i, g in enumerate(got)) / N == pytest.approx(r[row])
