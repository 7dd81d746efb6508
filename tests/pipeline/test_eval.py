"""``avatarforge eval --prompts``: R-precision of generated avatars under the independent evaluator."""
import pytest

from pipeline.config import resolve_config
from pipeline.eval.runner import DEFAULT_PROMPTS, r_precision_report, read_prompt_file

N = 8  # the first prompts of the shipped held-out file


@pytest.fixture(scope="module")
def rows():
    return read_prompt_file(DEFAULT_PROMPTS)[:N]


@pytest.mark.slow
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
    (c,) = r["paired"]  # the generated rows, prompt by prompt
    assert (c["before"], c["after"]) == ("template", "amortised")
    assert c["fixed"] - c["lost"] == round(N * (r["amortised"] - r["template"]))


def test_truth_refine_refines_each_prompts_ground_truth(rows):
    import torch

    from nerf.prior import BakedPrior
    from nerf.synthetic.corpus import spec_from_dict
    from nerf.template import TemplateParams
    from pipeline.generate import AvatarForge
    from pipeline.inputs import InputError

    cfg = resolve_config("tiny", overrides=["mesh.source=field"])  # the template prior the evaluator knows
    truth = TemplateParams.from_spec(spec_from_dict(rows[0]["spec"]))
    state = AvatarForge(cfg).build_field(rows[0]["prompt"], cfg, start=truth)
    # colours kept, as amortised
    assert state.params is truth and state.stats.max_color_shift == cfg.field.max_color_shift
    assert torch.equal(state.prior.sdf_grid, BakedPrior.bake(truth, cfg.prior_resolution).sdf_grid)

    r = r_precision_report(rows, cfg, ["truth+refine"], 2, True)
    assert r["truth+refine"] >= 0.75, r  # ground truth, a few steps refined, still finds its prompt
    with pytest.raises(InputError, match="spec"):
        r_precision_report([{"prompt": rows[0]["prompt"]}], cfg, ["truth+refine"], 2, True)


def test_another_evaluator_file_scores_in_place_of_the_shipped_one(rows, tmp_path):
    import shutil

    from pipeline.encoders.models import EVALUATOR_MODEL, WEIGHT_FILES, file_sha256
    from pipeline.inputs import InputError

    cfg = resolve_config("tiny")
    shipped = r_precision_report(rows, cfg, [], 2, True)
    copy = tmp_path / "candidate.safetensors"
    shutil.copyfile(WEIGHT_FILES[EVALUATOR_MODEL], copy)
    other = r_precision_report(rows, cfg, [], 2, True, evaluator_weights=copy)
    assert other["evaluator_sha256"] == shipped["evaluator_sha256"] == file_sha256(copy)
    assert other["ceiling"] == shipped["ceiling"] and other["retrieved"] == shipped["retrieved"]
    with pytest.raises(InputError, match="evaluator-weights"):
        r_precision_report(rows, cfg, [], 2, True, evaluator_weights=tmp_path / "missing.safetensors")


def test_saved_renders_score_the_same_avatars_without_generating_them(rows, tmp_path, monkeypatch):
    from pipeline.eval import runner as eval_cli
    from pipeline.inputs import InputError

    cfg = resolve_config("tiny")
    saved = tmp_path / "renders.safetensors"
    made = r_precision_report(rows, cfg, ["template", "amortised"], 2, True, save_renders=saved)

    def no_generation(*a, **k):
        raise AssertionError("scoring saved renders must not generate avatars")

    monkeypatch.setattr(eval_cli, "render_rows", no_generation)
    again = r_precision_report(rows, cfg, [], 4, True, renders=saved)  # modes and views come from the file
    assert again["views"] == 2 and again["render"] == "field"
    assert list(again["retrieved"]) == ["ceiling", "template", "amortised"]  # the table's order, not the file's
    for row in ("ceiling", "template", "amortised"):
        assert again[row] == made[row] and again["retrieved"][row] == made["retrieved"][row]
    with pytest.raises(InputError, match="other prompts"):
        r_precision_report(rows[:-1], cfg, [], 2, True, renders=saved)
    (tmp_path / "junk.safetensors").write_bytes(b"not a tensor file")
    with pytest.raises(InputError, match="not a safetensors"):
        r_precision_report(rows, cfg, [], 2, True, renders=tmp_path / "junk.safetensors")


def test_paired_comparison_counts_prompts_and_gives_the_exact_mcnemar_p():
    from pipeline.eval.metrics import paired_comparison

    before = [0, 1, 2, 0, 0, 0, 0, 0, 0, 0]  # right on 0, 1, 2
    after = [0, 0, 2, 3, 4, 5, 6, 7, 8, 0]  # loses 1, fixes 3..8
    c = paired_comparison(before, after)
    assert (c["fixed"], c["lost"]) == (6, 1)
    assert c["p_value"] == pytest.approx(2 * 8 / 128)  # P(X <= 1), X ~ Binomial(7, 1/2), both tails
    assert paired_comparison(after, before)["p_value"] == c["p_value"]
    tie = paired_comparison(before, [0, 1, 0, 3] + [0] * 6)  # one fixed, one lost
    assert (tie["fixed"], tie["lost"], tie["p_value"]) == (1, 1, 1.0)
    assert paired_comparison(before, before) == {"fixed": 0, "lost": 0, "p_value": 1.0}
    with pytest.raises(ValueError, match="different lengths"):
        paired_comparison(before, after[:5])
