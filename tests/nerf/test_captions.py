"""The caption grammar reports what a caption names, and the shipped prompt file is unambiguous."""
import json
import random
import re

from nerf.synthetic.avatar_spec import COLORS, sample_spec
from nerf.synthetic.captions import caption
from nerf.synthetic.corpus import is_heldout, spec_from_dict
from nerf.synthetic.vocabulary import HEAD_WORDS, UPPER_WORDS
from pipeline.eval.runner import DEFAULT_PROMPTS


def test_recording_what_is_named_leaves_captions_unchanged():
    # the corpus captions were written without ``named``: asking for it must not draw from the rng
    r = random.Random(0)
    for i in range(300):
        spec = sample_spec(r)
        for group, full, colors in (("train", False, True), ("heldout", True, True), ("evaluator", False, False)):
            plain = caption(spec, random.Random(i), group, full=full, colors=colors)
            assert caption(spec, random.Random(i), group, full=full, colors=colors, named={}) == plain


def test_named_attributes_follow_the_words_not_the_synonyms():
    spec = sample_spec(random.Random(4))
    keys = set()
    for i in range(40):
        named: dict = {}
        text = caption(spec, random.Random(i), "heldout", full=True, named=named)
        assert any(w in text for w in COLORS[named["upper_color"]][1]) and named["upper"] == spec.upper
        keys.add(json.dumps(named, sort_keys=True))
    # full captions of one spec differ in wording and template, so at most in the optional slots
    assert 1 <= len(keys) <= 4
    free: dict = {}
    caption(spec, random.Random(0), "heldout", full=True, colors=False, named=free)
    assert not any(k.endswith("color") for k in free)


def test_shipped_prompt_file_has_no_two_prompts_that_mean_the_same():
    rows = [json.loads(line) for line in DEFAULT_PROMPTS.read_text().splitlines() if line.strip()]
    assert len(rows) >= 100
    keys = [json.dumps(r["named"], sort_keys=True) for r in rows]
    assert len(set(keys)) == len(rows), "two prompts name the same attributes: R-precision cannot tell them apart"
    for r in rows:
        spec, named, text = spec_from_dict(r["spec"]), r["named"], r["prompt"]
        assert is_heldout(spec)
        # what the file says is named is in the words of the prompt, and true of its avatar
        for attr in ("upper_color", "lower_color", "headwear_color", "accessory_color"):
            if attr in named:
                assert named[attr] == getattr(spec, attr)
                assert re.search("|".join(COLORS[named[attr]][1]), text), (attr, text)
        assert any(w in text for w in UPPER_WORDS[named["upper"]]) and named["upper"] == spec.upper
        if named.get("headwear", "none") != "none":
            assert any(w in text for w in HEAD_WORDS[named["headwear"]])
