"""The config keys users set are a public interface: the listing of 0.1.0 (``avatarforge config`` before the
layout change) still holds, except for the keys removed on purpose and the projection keys made visible."""
from pathlib import Path

from pipeline.cli import main

BEFORE = Path(__file__).with_name("data") / "config_keys_0.1.0.txt"
REMOVED = {"mesh.triangles": "export.triangles is the one triangle budget",
           "guidance.contrast_weight": "the contrastive guidance it weighted was rejected and removed"}
ADDED = {"texture.sharpness = 4.0", "texture.texels = 256",  # the projection's own settings, hidden before
         "mesh.source = 'body'", "export.rest_pose = 't'",  # the anny body (issue 29)
         "export.morph_targets = 'both'",  # the face and VRM (issue 31)
         "export.vrm.authors = ('avatarforge',)", "export.vrm.version = ''", "export.vrm.copyright = ''",
         "export.vrm.contact = ''", "export.vrm.avatar_permission = 'everyone'",
         "export.vrm.commercial_usage = 'corporation'", "export.vrm.credit_notation = 'unnecessary'",
         "export.vrm.allow_redistribution = True", "export.vrm.modification = 'allowModification'",
         "export.vrm.allow_violent = False", "export.vrm.allow_sexual = False",
         "export.vrm.allow_political_or_religious = False", "export.vrm.allow_antisocial_or_hate = False",
         "export.vrm.other_license_url = ''",
         "model.text_tower = 'auto'", "reference.library_needs_colour = True"}  # languages, weak matches (issue 30)


def test_config_keys_and_defaults_are_those_of_0_1_0(capsys):
    assert main(["config"]) == 0
    now = {line.split("    # ")[0] for line in capsys.readouterr().out.splitlines()}
    before = {line for line in BEFORE.read_text().splitlines() if line.split(" = ")[0] not in REMOVED}
    assert now == before | ADDED
