"""Prompts split into the clauses the FusionMLP reads as a set."""
import pytest

from nerf.synthetic.clauses import MAX_CLAUSES, split_clauses


@pytest.mark.parametrize("prompt,clauses", [
    ("a tall knight in a red tunic", ["a tall knight", "a red tunic"]),
    ("Red shirt, blue trousers; green hat", ["Red shirt", "blue trousers", "green hat"]),
    ("a kid wearing a yellow dress and a white crown, with boots",
     ["a kid", "a yellow dress", "a white crown", "boots"]),
    ("A red dress worn by a tall woman", ["A red dress", "a tall woman"]),
    ("a robot", ["a robot"]),
    ("inland warrior", ["inland warrior"]),  # joiners only split as whole words
])
def test_split(prompt, clauses):
    assert split_clauses(prompt) == clauses


def test_long_prompts_keep_the_first_clauses():
    prompt = ", ".join(f"item {i}" for i in range(20))
    assert split_clauses(prompt) == [f"item {i}" for i in range(MAX_CLAUSES)]
