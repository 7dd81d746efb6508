"""Independent checker of the VRM 1.0 rules (VRMC_vrm-1.0 + VRMC_springBone-1.0) on a .vrm file's glTF JSON.

Written from the specification (vrm-c/vrm-specification, ``specification/VRMC_vrm-1.0/*.md`` + ``schema/*.json`` and
``specification/VRMC_springBone-1.0/README.md`` + ``schema/*.json``), not from any exporter or importer. Standard
library only, so it can judge the project's exporter without sharing its assumptions.

Entry points
------------
* :func:`vrm_problems` (glTF JSON dict -> list of violated rules; ``[]`` means it conforms).
* :func:`read_glb_json` / :func:`read_glb` (GLB container parsing with ``struct``).
* :func:`vrm_file_problems` (path -> :func:`vrm_problems` plus the thumbnail rules that need the image bytes).
* :func:`vrm_advisories` (the spec's recommendations, "should"/"not recommended"; never failures).

Each problem string starts with the JSON path it concerns (e.g. ``extensions.VRMC_vrm.meta.licenseUrl: ...``);
rest-pose problems start with ``rest pose:`` so callers can tell the geometric heuristics apart.

Rules checked
-------------
glTF core (only the ones a VRM consumer trips over):
  * asset.version == "2.0"; extensionsUsed / extensionsRequired are lists of unique strings and every name in
    extensionsRequired is in extensionsUsed; every extension name used anywhere in the JSON (outside ``extras``)
    is listed in extensionsUsed.
  * node hierarchy: children indices exist, no node has two parents or is its own child, no cycles.
  * all primitives of a mesh have the same number of morph targets; mesh.weights (if any) has that length.
VRMC_vrm (README.md, VRMC_vrm.schema.json):
  * "VRMC_vrm" in extensionsUsed and extensions.VRMC_vrm is an object; specVersion == "1.0"; meta and humanoid
    present (schema ``required``).
meta (meta.md, VRMC_vrm.meta.schema.json):
  * name: non-empty string (required, minLength 1); authors: list of >= 1 non-empty strings (required; schema
    puts minLength 1 on every item); licenseUrl == "https://vrm.dev/licenses/1.0/" (required).
  * version, copyrightInformation, contactInformation, thirdPartyLicenses, otherLicenseUrl are strings;
    references is a list of >= 1 strings.
  * avatarPermission, commercialUsage, creditNotation, modification hold one of the schema's enum values.
  * allowExcessivelyViolentUsage, allowExcessivelySexualUsage, allowPoliticalOrReligiousUsage,
    allowAntisocialOrHateUsage, allowRedistribution are JSON booleans.
  * thumbnailImage indexes an existing image whose format is PNG or JPEG (mimeType, data-URI type or file suffix);
    with the file bytes (:func:`vrm_file_problems`) also: the bytes are PNG/JPEG and the image is square.
humanoid (humanoid.md, VRMC_vrm.humanoid*.schema.json):
  * humanBones present; every key is a bone the spec defines; each value is an object with a valid ``node``.
  * a node is used by at most one human bone ("Humanoid bones must be unique").
  * the 15 required bones are present (hips, spine, head, upper/lower legs, feet, upper/lower arms, hands).
  * "Needs Parent Bone: Yes": upperChest needs chest; thumb proximal needs thumb metacarpal, thumb distal needs
    thumb proximal; finger intermediate needs proximal, finger distal needs intermediate.
  * parent rule: the nearest glTF ancestor node that is a human bone is the bone's spec parent or, when that
    optional parent is absent, the spec parent's nearest present spec ancestor; hips has no human-bone ancestor.
  * "Forbidden Transforms": scale components of human bones are positive (zero not permitted).
tpose.md, numerical definition 2.1:
  * every node's scale (TRS ``scale`` or the scale of ``matrix``) is positive and uniform.
tpose.md, appearance definitions (heuristics from the JSON's node transforms; ``check_rest_pose=False`` to skip):
  * left bones lie on +X, right bones on -X (so the model faces +Z), and left/right pairs mirror across X = 0.
  * upper arm -> lower arm -> hand and the four fingers run along +X (left) / -X (right), level with the ground.
  * thumbs run along (+-X, +Z) at 45 degrees, level with the ground.
  * upper leg -> lower leg -> foot runs along -Y; hips -> head runs along +Y; foot -> toes points +Z.
  * the lowest vertex (POSITION accessor min/max, which glTF requires) is at Y = 0 (grounded).
expressions (expressions.md, VRMC_vrm.expressions*.schema.json):
  * preset keys are preset names; custom names are not preset names; each expression is an object.
  * morphTargetBinds / materialColorBinds / textureTransformBinds are non-empty lists when present.
  * morphTargetBind: node exists and has a mesh; index < the morph-target count of every primitive of that mesh;
    weight is a number in [0, 1].
  * materialColorBind: material exists; type in the enum; targetValue is 4 numbers.
  * textureTransformBind: material exists; scale / offset are 2 numbers.
  * isBinary is a boolean; overrideBlink / overrideLookAt / overrideMouth in {none, block, blend}.
lookAt (lookAt.md, VRMC_vrm.lookAt*.schema.json):
  * type (if present) is "bone" or "expression"; if "bone", the leftEye and rightEye human bones exist.
  * offsetFromHeadBone is 3 numbers; each rangeMap is an object with inputMaxValue a number in [0, 180] and
    outputScale a number.
firstPerson (firstPerson.md, VRMC_vrm.firstPerson*.schema.json):
  * meshAnnotations is a non-empty list; each has node (exists, has a mesh) and type in
    {auto, both, thirdPersonOnly, firstPersonOnly}.
VRMC_springBone (README.md, VRMC_springBone*.schema.json), when extensions.VRMC_springBone is present:
  * listed in extensionsUsed; specVersion == "1.0" (required).
  * colliders / colliderGroups / springs are non-empty lists when present.
  * collider: node exists; shape has exactly one of sphere / capsule; radius >= 0; offset / tail are 3 numbers.
  * colliderGroup: colliders is a non-empty list of existing collider indices.
  * spring: joints non-empty; every joint node exists; hitRadius, stiffness, gravityPower >= 0; dragForce in
    [0, 1]; gravityDir is 3 numbers; colliderGroups is a non-empty list of existing group indices.
  * joints[n] is a parent or ancestor of joints[n+1] (the README allows skipped intermediate nodes).
  * no node belongs to two springs, counting the skipped nodes between consecutive joints ("a-(b)-c" and
    "b-(c)-e" conflict on b and c).
  * center (if present) exists, is joints[0] or an ancestor of it, and is neither a joint of another spring nor
    a descendant of one.

Rules not checked (and why)
---------------------------
* Thumbnail squareness / real format: needs the image bytes; done by :func:`vrm_file_problems`, not here.
* Skinned-mesh appearance parts of the T-pose (palm faces -Y, nails face +Y, shoulders relaxed and lowest,
  gaze straight ahead, symmetric mesh): need vertex data and skin weights, not JSON. The bone-position
  heuristics above approximate definitions 1.1-1.8; the ground check assumes that skinned vertices are stored in
  their rest (bind) pose, i.e. that joint world matrix x inverseBindMatrix is the identity at rest.
* "The bone equivalent to pelvis towards Y- from hips is deprecated": deprecation, not a prohibition.
* glTF schema validation in general (accessors, buffers, materials): the Khronos glTF-Validator's job.
* VRMC_materials_mtoon, VRMC_node_constraint, KHR_* extension bodies: separate specifications.
* Runtime behaviour (expression override / isBinary interplay, lookAt and spring-bone algorithms): not data.
* Recommendations (no TANGENT in morph targets, meshes[*].extras.targetNames, no animations/cameras,
  KHR_texture_transform rotation/texCoord, offsetFromHeadBone present, same-kind overrides ignored):
  reported by :func:`vrm_advisories` rather than as problems.
"""
from __future__ import annotations

import base64
import json
import math
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VRM_SPEC_VERSION = "1.0"
SPRING_SPEC_VERSION = "1.0"
VRM_LICENSE_URL = "https://vrm.dev/licenses/1.0/"
_VRM = "extensions.VRMC_vrm"
_SPRING = "extensions.VRMC_springBone"

# humanoid.md "List of humanoid bones": bone -> spec parent (None for hips, the root).
HUMAN_BONE_PARENTS: dict[str, str | None] = {
    # Torso
    "hips": None,
    "spine": "hips",
    "chest": "spine",
    "upperChest": "chest",
    "neck": "upperChest",
    # Head
    "head": "neck",
    "leftEye": "head",
    "rightEye": "head",
    "jaw": "head",
    # Leg
    "leftUpperLeg": "hips",
    "leftLowerLeg": "leftUpperLeg",
    "leftFoot": "leftLowerLeg",
    "leftToes": "leftFoot",
    "rightUpperLeg": "hips",
    "rightLowerLeg": "rightUpperLeg",
    "rightFoot": "rightLowerLeg",
    "rightToes": "rightFoot",
    # Arm
    "leftShoulder": "upperChest",
    "leftUpperArm": "leftShoulder",
    "leftLowerArm": "leftUpperArm",
    "leftHand": "leftLowerArm",
    "rightShoulder": "upperChest",
    "rightUpperArm": "rightShoulder",
    "rightLowerArm": "rightUpperArm",
    "rightHand": "rightLowerArm",
}
for _side in ("left", "right"):  # Finger table
    HUMAN_BONE_PARENTS[f"{_side}ThumbMetacarpal"] = f"{_side}Hand"
    HUMAN_BONE_PARENTS[f"{_side}ThumbProximal"] = f"{_side}ThumbMetacarpal"
    HUMAN_BONE_PARENTS[f"{_side}ThumbDistal"] = f"{_side}ThumbProximal"
    for _finger in ("Index", "Middle", "Ring", "Little"):
        HUMAN_BONE_PARENTS[f"{_side}{_finger}Proximal"] = f"{_side}Hand"
        HUMAN_BONE_PARENTS[f"{_side}{_finger}Intermediate"] = f"{_side}{_finger}Proximal"
        HUMAN_BONE_PARENTS[f"{_side}{_finger}Distal"] = f"{_side}{_finger}Intermediate"

# humanoid.md "Required" column == VRMC_vrm.humanoid.humanBones.schema.json "required".
REQUIRED_HUMAN_BONES: frozenset[str] = frozenset({
    "hips", "spine", "head",
    "leftUpperLeg", "leftLowerLeg", "leftFoot", "rightUpperLeg", "rightLowerLeg", "rightFoot",
    "leftUpperArm", "leftLowerArm", "leftHand", "rightUpperArm", "rightLowerArm", "rightHand",
})

# humanoid.md "Needs Parent Bone: Yes": the bone may exist only when its spec parent exists.
NEEDS_PARENT_BONE: frozenset[str] = frozenset(
    {"upperChest"}
    | {f"{s}Thumb{p}" for s in ("left", "right") for p in ("Proximal", "Distal")}
    | {f"{s}{f}{p}" for s in ("left", "right") for f in ("Index", "Middle", "Ring", "Little")
       for p in ("Intermediate", "Distal")}
)

EXPRESSION_PRESETS: frozenset[str] = frozenset({
    "happy", "angry", "sad", "relaxed", "surprised",  # emotions
    "aa", "ih", "ou", "ee", "oh",  # lip sync
    "blink", "blinkLeft", "blinkRight",  # blink
    "lookUp", "lookDown", "lookLeft", "lookRight",  # gaze
    "neutral",
})
EXPRESSION_OVERRIDE_VALUES = ("none", "block", "blend")
EXPRESSION_OVERRIDE_FIELDS = ("overrideBlink", "overrideLookAt", "overrideMouth")
MATERIAL_COLOR_TYPES = ("color", "emissionColor", "shadeColor", "matcapColor", "rimColor", "outlineColor")

META_ENUMS: dict[str, tuple[str, ...]] = {
    "avatarPermission": ("onlyAuthor", "onlySeparatelyLicensedPerson", "everyone"),
    "commercialUsage": ("personalNonProfit", "personalProfit", "corporation"),
    "creditNotation": ("required", "unnecessary"),
    "modification": ("prohibited", "allowModification", "allowModificationRedistribution"),
}
META_BOOLEANS = (
    "allowExcessivelyViolentUsage", "allowExcessivelySexualUsage", "allowPoliticalOrReligiousUsage",
    "allowAntisocialOrHateUsage", "allowRedistribution",
)
META_OPTIONAL_STRINGS = ("version", "copyrightInformation", "contactInformation", "thirdPartyLicenses",
                         "otherLicenseUrl")
THUMBNAIL_MIME_TYPES = ("image/png", "image/jpeg")

LOOK_AT_TYPES = ("bone", "expression")
LOOK_AT_RANGE_MAPS = ("rangeMapHorizontalInner", "rangeMapHorizontalOuter", "rangeMapVerticalDown",
                      "rangeMapVerticalUp")
FIRST_PERSON_TYPES = ("auto", "both", "thirdPersonOnly", "firstPersonOnly")

_GLB_MAGIC = 0x46546C67  # b"glTF"
_CHUNK_JSON = 0x4E4F534A  # b"JSON"
_CHUNK_BIN = 0x004E4942  # b"BIN\0"


# ----------------------------------------------------------------------------------------------- GLB container


def read_glb(path: str | Path) -> tuple[dict[str, Any], bytes | None]:
    """Parse a GLB (.glb/.vrm) file into (JSON chunk as a dict, BIN chunk bytes or None).

    Raises ValueError when the file is not a well-formed glTF 2.0 binary container.
    """
    data = Path(path).read_bytes()
    if len(data) < 20:
        raise ValueError(f"{path}: too short for a GLB ({len(data)} bytes)")
    magic, version, length = struct.unpack_from("<III", data, 0)
    if magic != _GLB_MAGIC:
        raise ValueError(f"{path}: not a GLB (magic {magic:#010x})")
    if version != 2:
        raise ValueError(f"{path}: GLB container version {version}, expected 2")
    if length != len(data):
        raise ValueError(f"{path}: header length {length} != file size {len(data)}")
    chunks: list[tuple[int, bytes]] = []
    offset = 12
    while offset + 8 <= length:
        chunk_len, chunk_type = struct.unpack_from("<II", data, offset)
        start = offset + 8
        if start + chunk_len > length:
            raise ValueError(f"{path}: chunk at byte {offset} runs past the end of the file")
        chunks.append((chunk_type, data[start:start + chunk_len]))
        offset = start + chunk_len
    if not chunks or chunks[0][0] != _CHUNK_JSON:
        raise ValueError(f"{path}: the first chunk is not JSON")
    gltf = json.loads(chunks[0][1].decode("utf-8"))
    if not isinstance(gltf, dict):
        raise ValueError(f"{path}: the JSON chunk is not an object")
    binary = chunks[1][1] if len(chunks) > 1 and chunks[1][0] == _CHUNK_BIN else None
    return gltf, binary


def read_glb_json(path: str | Path) -> dict[str, Any]:
    """The JSON chunk of a GLB/VRM file, parsed (see :func:`read_glb`)."""
    return read_glb(path)[0]


# ----------------------------------------------------------------------------------------------- small helpers


def _is_index(value: Any) -> bool:
    """A glTFid: a non-negative JSON integer (booleans excluded)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_number(value: Any) -> bool:
    """A finite JSON number (booleans excluded)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_vector(value: Any, size: int) -> bool:
    """A list of exactly ``size`` numbers."""
    return isinstance(value, list) and len(value) == size and all(_is_number(v) for v in value)


def _as_list(value: Any) -> list[Any]:
    """``value`` if it is a list, else an empty list (type errors are reported elsewhere)."""
    return value if isinstance(value, list) else []


def _as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a dict, else an empty dict (type errors are reported elsewhere)."""
    return value if isinstance(value, dict) else {}


@dataclass
class _Doc:
    """The glTF JSON plus derived lookups shared by the rule groups."""

    gltf: dict[str, Any]
    nodes: list[Any] = field(default_factory=list)
    meshes: list[Any] = field(default_factory=list)
    materials: list[Any] = field(default_factory=list)
    images: list[Any] = field(default_factory=list)
    parent: dict[int, int] = field(default_factory=dict)
    hierarchy_ok: bool = True

    @classmethod
    def build(cls, gltf: dict[str, Any]) -> tuple[_Doc, list[str]]:
        """Index the document and return it with the node-hierarchy problems found while doing so."""
        doc = cls(gltf, _as_list(gltf.get("nodes")), _as_list(gltf.get("meshes")),
                  _as_list(gltf.get("materials")), _as_list(gltf.get("images")))
        return doc, doc._index_hierarchy()

    def _index_hierarchy(self) -> list[str]:
        problems: list[str] = []
        for i, node in enumerate(self.nodes):
            for child in _as_list(_as_dict(node).get("children")):
                if not self.has_node(child):
                    problems.append(f"nodes[{i}].children: {child!r} is not a node index")
                    self.hierarchy_ok = False
                elif child == i:
                    problems.append(f"nodes[{i}].children: a node cannot be its own child")
                    self.hierarchy_ok = False
                elif child in self.parent and self.parent[child] != i:
                    problems.append(f"nodes[{child}]: has two parents (nodes {self.parent[child]} and {i})")
                    self.hierarchy_ok = False
                else:
                    self.parent[child] = i
        for i in range(len(self.nodes)):
            seen = {i}
            p = self.parent.get(i)
            while p is not None:
                if p in seen:
                    problems.append(f"nodes[{i}]: its ancestors form a cycle")
                    self.hierarchy_ok = False
                    break
                seen.add(p)
                p = self.parent.get(p)
        return problems

    def has_node(self, index: Any) -> bool:
        return _is_index(index) and index < len(self.nodes)

    def has_material(self, index: Any) -> bool:
        return _is_index(index) and index < len(self.materials)

    def has_image(self, index: Any) -> bool:
        return _is_index(index) and index < len(self.images)

    def node(self, index: int) -> dict[str, Any]:
        return _as_dict(self.nodes[index])

    def node_mesh(self, index: Any) -> dict[str, Any] | None:
        """The mesh of node ``index``, or None when the node does not exist or has no (valid) mesh."""
        if not self.has_node(index):
            return None
        mesh = self.node(index).get("mesh")
        if not (_is_index(mesh) and mesh < len(self.meshes)):
            return None
        return _as_dict(self.meshes[mesh])

    def ancestors(self, index: int) -> list[int]:
        """Ancestors of node ``index``, nearest first (stops at a cycle)."""
        out: list[int] = []
        p = self.parent.get(index)
        while p is not None and p not in out and p != index:
            out.append(p)
            p = self.parent.get(p)
        return out

    def is_ancestor(self, ancestor: int, node: int) -> bool:
        return ancestor in self.ancestors(node)


# ----------------------------------------------------------------------------------------------- glTF core


def _collect_extension_names(value: Any, out: set[str]) -> None:
    """Add every key of every ``extensions`` object (outside ``extras``) to ``out``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "extras":
                continue
            if key == "extensions" and isinstance(item, dict):
                out.update(item)
            _collect_extension_names(item, out)
    elif isinstance(value, list):
        for item in value:
            _collect_extension_names(item, out)


def _check_extension_lists(gltf: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    lists: dict[str, list[Any]] = {}
    for key in ("extensionsUsed", "extensionsRequired"):
        value = gltf.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"{key}: must be a list of strings")
            value = []
        elif len(set(value)) != len(value):
            problems.append(f"{key}: names must be unique")
        lists[key] = value
    for name in lists["extensionsRequired"]:
        if name not in lists["extensionsUsed"]:
            problems.append(f"extensionsRequired: {name!r} is not in extensionsUsed")
    used: set[str] = set()
    _collect_extension_names({k: v for k, v in gltf.items() if k not in ("extensionsUsed", "extensionsRequired")},
                             used)
    for name in sorted(used - set(lists["extensionsUsed"])):
        problems.append(f"extensionsUsed: extension {name!r} is used but not listed")
    return problems


def _check_gltf_core(doc: _Doc) -> list[str]:
    problems: list[str] = []
    if _as_dict(doc.gltf.get("asset")).get("version") != "2.0":
        problems.append("asset.version: must be '2.0'")
    problems += _check_extension_lists(doc.gltf)
    for m, mesh in enumerate(doc.meshes):
        counts = {len(_as_list(_as_dict(p).get("targets"))) for p in _as_list(_as_dict(mesh).get("primitives"))}
        if len(counts) > 1:
            problems.append(f"meshes[{m}].primitives: all primitives must have the same number of morph targets "
                            f"(got {sorted(counts)})")
        weights = _as_dict(mesh).get("weights")
        if weights is not None and len(counts) == 1 and len(_as_list(weights)) != next(iter(counts)):
            problems.append(f"meshes[{m}].weights: length must equal the number of morph targets")
    return problems


# ----------------------------------------------------------------------------------------------- node transforms


def _node_scale(node: dict[str, Any]) -> tuple[list[float], float] | None:
    """(per-axis scale magnitudes, sign of the determinant) of a node's local transform; None if malformed."""
    matrix = node.get("matrix")
    if matrix is not None:
        if not _is_vector(matrix, 16):
            return None
        cols = [matrix[0:3], matrix[4:7], matrix[8:11]]  # column-major
        norms = [math.sqrt(sum(c * c for c in col)) for col in cols]
        a, b, c = cols
        det = (a[0] * (b[1] * c[2] - b[2] * c[1]) - b[0] * (a[1] * c[2] - a[2] * c[1])
               + c[0] * (a[1] * b[2] - a[2] * b[1]))
        return norms, (1.0 if det > 0 else -1.0 if det < 0 else 0.0)
    scale = node.get("scale", [1.0, 1.0, 1.0])
    if not _is_vector(scale, 3):
        return None
    sign = 1.0 if all(s > 0 for s in scale) else 0.0 if any(s == 0 for s in scale) else -1.0
    return [abs(s) for s in scale], sign


def _check_node_scales(doc: _Doc, rel_tol: float = 1e-4) -> list[str]:
    """tpose.md definition 2.1: all node transforms have a positive uniform scale."""
    problems: list[str] = []
    for i in range(len(doc.nodes)):
        node = doc.node(i)
        got = _node_scale(node)
        if got is None:
            problems.append(f"nodes[{i}]: malformed scale/matrix")
            continue
        norms, sign = got
        if sign <= 0 or min(norms) <= 0:
            problems.append(f"nodes[{i}]: scale must be positive (tpose.md 2.1), got "
                            f"{node.get('scale', 'matrix')}")
        elif max(norms) - min(norms) > rel_tol * max(norms):
            problems.append(f"nodes[{i}]: scale must be uniform (tpose.md 2.1), got {[round(n, 6) for n in norms]}")
    return problems


# ----------------------------------------------------------------------------------------------- VRMC_vrm root


def _check_vrm_root(doc: _Doc) -> tuple[dict[str, Any] | None, list[str]]:
    """The VRMC_vrm object (or None) and the problems with its presence and version."""
    problems: list[str] = []
    used = _as_list(doc.gltf.get("extensionsUsed"))
    if "VRMC_vrm" not in used:
        problems.append("extensionsUsed: must contain 'VRMC_vrm'")
    vrm = _as_dict(doc.gltf.get("extensions")).get("VRMC_vrm")
    if not isinstance(vrm, dict):
        problems.append(f"{_VRM}: missing (or not an object)")
        return None, problems
    if vrm.get("specVersion") != VRM_SPEC_VERSION:
        problems.append(f"{_VRM}.specVersion: must be {VRM_SPEC_VERSION!r}, got {vrm.get('specVersion')!r}")
    for key in ("meta", "humanoid"):
        if not isinstance(vrm.get(key), dict):
            problems.append(f"{_VRM}.{key}: required object is missing")
    for key in ("firstPerson", "lookAt", "expressions"):
        if key in vrm and not isinstance(vrm[key], dict):
            problems.append(f"{_VRM}.{key}: must be an object")
    return vrm, problems


# ----------------------------------------------------------------------------------------------- meta


def _image_format_problem(image: dict[str, Any]) -> str | None:
    """Why an image is not PNG/JPEG judging from its JSON (mimeType / data URI / file suffix), or None."""
    mime = image.get("mimeType")
    uri = image.get("uri")
    if mime is not None and mime not in THUMBNAIL_MIME_TYPES:
        return f"mimeType {mime!r} is not image/png or image/jpeg"
    if isinstance(uri, str):
        if uri.startswith("data:"):
            kind = uri[5:].split(";", 1)[0].split(",", 1)[0]
            if kind not in THUMBNAIL_MIME_TYPES:
                return f"data URI type {kind!r} is not image/png or image/jpeg"
        elif not uri.lower().split("?", 1)[0].endswith((".png", ".jpg", ".jpeg")):
            return f"uri {uri!r} is not a .png/.jpg/.jpeg file"
    elif mime is None:
        return "has neither a mimeType nor a uri"
    if _as_dict(image.get("extensions")):
        return "formats provided through extensions are not allowed"
    return None


def _check_meta(doc: _Doc, meta: dict[str, Any]) -> list[str]:
    path = f"{_VRM}.meta"
    problems: list[str] = []
    name = meta.get("name")
    if not (isinstance(name, str) and name):
        problems.append(f"{path}.name: required non-empty string, got {name!r}")
    authors = meta.get("authors")
    if not (isinstance(authors, list) and authors and all(isinstance(a, str) and a for a in authors)):
        problems.append(f"{path}.authors: required list of at least one non-empty string, got {authors!r}")
    if meta.get("licenseUrl") != VRM_LICENSE_URL:
        problems.append(f"{path}.licenseUrl: must be {VRM_LICENSE_URL!r}, got {meta.get('licenseUrl')!r}")
    for key in META_OPTIONAL_STRINGS:
        if key in meta and not isinstance(meta[key], str):
            problems.append(f"{path}.{key}: must be a string, got {meta[key]!r}")
    if "references" in meta:
        refs = meta["references"]
        if not (isinstance(refs, list) and refs and all(isinstance(r, str) for r in refs)):
            problems.append(f"{path}.references: must be a non-empty list of strings, got {refs!r}")
    for key, allowed in META_ENUMS.items():
        if key in meta and meta[key] not in allowed:
            problems.append(f"{path}.{key}: {meta[key]!r} is not one of {list(allowed)}")
    for key in META_BOOLEANS:
        if key in meta and not isinstance(meta[key], bool):
            problems.append(f"{path}.{key}: must be a boolean, got {meta[key]!r}")
    if "thumbnailImage" in meta:
        index = meta["thumbnailImage"]
        if not doc.has_image(index):
            problems.append(f"{path}.thumbnailImage: {index!r} is not an index into images")
        else:
            why = _image_format_problem(_as_dict(doc.images[index]))
            if why:
                problems.append(f"{path}.thumbnailImage: images[{index}] must be PNG or JPEG: {why}")
    return problems


# ----------------------------------------------------------------------------------------------- humanoid


def _expected_parent(bone: str, present: dict[str, int]) -> str | None:
    """The spec parent of ``bone``, or that parent's nearest present spec ancestor when it is absent."""
    parent = HUMAN_BONE_PARENTS[bone]
    while parent is not None and parent not in present:
        parent = HUMAN_BONE_PARENTS[parent]
    return parent


def _check_human_bone_entries(doc: _Doc, bones: dict[str, Any]) -> tuple[dict[str, int], list[str]]:
    """Validate each humanBones entry; return bone -> node for the valid, known ones."""
    path = f"{_VRM}.humanoid.humanBones"
    problems: list[str] = []
    present: dict[str, int] = {}
    owner: dict[int, str] = {}
    for bone, entry in bones.items():
        if bone not in HUMAN_BONE_PARENTS:
            problems.append(f"{path}.{bone}: not a VRM 1.0 human bone name")
            continue
        node = _as_dict(entry).get("node")
        if not doc.has_node(node):
            problems.append(f"{path}.{bone}.node: {node!r} is not a node index")
            continue
        if node in owner:
            problems.append(f"{path}.{bone}.node: node {node} is already used by human bone {owner[node]!r} "
                            "(human bones must be unique)")
            continue
        owner[node] = bone
        present[bone] = node
    return present, problems


def _check_humanoid(doc: _Doc, humanoid: dict[str, Any]) -> tuple[dict[str, int], list[str]]:
    """Humanoid rules; returns (bone -> node of the usable bones, problems)."""
    path = f"{_VRM}.humanoid.humanBones"
    bones = humanoid.get("humanBones")
    if not isinstance(bones, dict):
        return {}, [f"{path}: required object is missing"]
    present, problems = _check_human_bone_entries(doc, bones)
    for bone in sorted(REQUIRED_HUMAN_BONES - set(bones)):
        problems.append(f"{path}.{bone}: required human bone is missing")
    for bone in sorted(NEEDS_PARENT_BONE & set(present)):
        if HUMAN_BONE_PARENTS[bone] not in present:
            problems.append(f"{path}.{bone}: requires its parent bone {HUMAN_BONE_PARENTS[bone]!r} to exist")
    by_node = {node: bone for bone, node in present.items()}
    for bone, node in present.items():
        actual = next((by_node[a] for a in doc.ancestors(node) if a in by_node), None)
        expected = _expected_parent(bone, present)
        if actual != expected:
            problems.append(f"{path}.{bone}: nearest human-bone ancestor in the node hierarchy is {actual!r}, "
                            f"the spec's parent rule requires {expected!r}")
        got = _node_scale(doc.node(node))
        if got is not None and (got[1] <= 0 or min(got[0]) <= 0):
            problems.append(f"{path}.{bone}: node {node} scale components must be positive (Forbidden Transforms)")
    return present, problems


# ----------------------------------------------------------------------------------------------- expressions


def _check_morph_target_bind(doc: _Doc, bind: Any, path: str) -> list[str]:
    bind = _as_dict(bind)
    problems: list[str] = []
    node, index, weight = bind.get("node"), bind.get("index"), bind.get("weight")
    mesh = doc.node_mesh(node)
    if not doc.has_node(node):
        problems.append(f"{path}.node: {node!r} is not a node index")
    elif mesh is None:
        problems.append(f"{path}.node: node {node} has no mesh")
    if not _is_index(index):
        problems.append(f"{path}.index: required non-negative integer, got {index!r}")
    elif mesh is not None:
        for p, prim in enumerate(_as_list(mesh.get("primitives"))):
            count = len(_as_list(_as_dict(prim).get("targets")))
            if index >= count:
                problems.append(f"{path}.index: {index} is out of range for primitive {p} of node {node}'s mesh "
                                f"({count} morph targets)")
    if not (_is_number(weight) and 0.0 <= weight <= 1.0):
        problems.append(f"{path}.weight: required number in [0, 1], got {weight!r}")
    return problems


def _check_material_color_bind(doc: _Doc, bind: Any, path: str) -> list[str]:
    bind = _as_dict(bind)
    problems: list[str] = []
    if not doc.has_material(bind.get("material")):
        problems.append(f"{path}.material: {bind.get('material')!r} is not a material index")
    if bind.get("type") not in MATERIAL_COLOR_TYPES:
        problems.append(f"{path}.type: {bind.get('type')!r} is not one of {list(MATERIAL_COLOR_TYPES)}")
    if not _is_vector(bind.get("targetValue"), 4):
        problems.append(f"{path}.targetValue: required list of 4 numbers")
    return problems


def _check_texture_transform_bind(doc: _Doc, bind: Any, path: str) -> list[str]:
    bind = _as_dict(bind)
    problems: list[str] = []
    if not doc.has_material(bind.get("material")):
        problems.append(f"{path}.material: {bind.get('material')!r} is not a material index")
    for key in ("scale", "offset"):
        if key in bind and not _is_vector(bind[key], 2):
            problems.append(f"{path}.{key}: must be a list of 2 numbers")
    return problems


_BIND_CHECKS = {
    "morphTargetBinds": _check_morph_target_bind,
    "materialColorBinds": _check_material_color_bind,
    "textureTransformBinds": _check_texture_transform_bind,
}


def _check_expression(doc: _Doc, expression: Any, path: str) -> list[str]:
    if not isinstance(expression, dict):
        return [f"{path}: must be an object"]
    problems: list[str] = []
    for key, check in _BIND_CHECKS.items():
        if key not in expression:
            continue
        binds = expression[key]
        if not (isinstance(binds, list) and binds):
            problems.append(f"{path}.{key}: must be a non-empty list")
            continue
        for i, bind in enumerate(binds):
            problems += check(doc, bind, f"{path}.{key}[{i}]")
    if "isBinary" in expression and not isinstance(expression["isBinary"], bool):
        problems.append(f"{path}.isBinary: must be a boolean, got {expression['isBinary']!r}")
    for key in EXPRESSION_OVERRIDE_FIELDS:
        if key in expression and expression[key] not in EXPRESSION_OVERRIDE_VALUES:
            problems.append(f"{path}.{key}: {expression[key]!r} is not one of {list(EXPRESSION_OVERRIDE_VALUES)}")
    return problems


def _check_expressions(doc: _Doc, expressions: dict[str, Any]) -> list[str]:
    path = f"{_VRM}.expressions"
    problems: list[str] = []
    for group in ("preset", "custom"):
        if group in expressions and not isinstance(expressions[group], dict):
            problems.append(f"{path}.{group}: must be an object")
    for name, expression in _as_dict(expressions.get("preset")).items():
        if name not in EXPRESSION_PRESETS:
            problems.append(f"{path}.preset.{name}: not a preset expression name")
        problems += _check_expression(doc, expression, f"{path}.preset.{name}")
    for name, expression in _as_dict(expressions.get("custom")).items():
        if name in EXPRESSION_PRESETS:
            problems.append(f"{path}.custom.{name}: custom expression names must differ from preset names")
        problems += _check_expression(doc, expression, f"{path}.custom.{name}")
    return problems


# ----------------------------------------------------------------------------------------------- lookAt / firstPerson


def _check_look_at(look_at: dict[str, Any], bones: dict[str, int]) -> list[str]:
    path = f"{_VRM}.lookAt"
    problems: list[str] = []
    kind = look_at.get("type")
    if "type" in look_at and kind not in LOOK_AT_TYPES:
        problems.append(f"{path}.type: {kind!r} is not one of {list(LOOK_AT_TYPES)}")
    if kind == "bone":
        for eye in ("leftEye", "rightEye"):
            if eye not in bones:
                problems.append(f"{path}.type: 'bone' needs the {eye!r} human bone, which is missing")
    if "offsetFromHeadBone" in look_at and not _is_vector(look_at["offsetFromHeadBone"], 3):
        problems.append(f"{path}.offsetFromHeadBone: must be a list of 3 numbers")
    for key in LOOK_AT_RANGE_MAPS:
        if key not in look_at:
            continue
        range_map = look_at[key]
        if not isinstance(range_map, dict):
            problems.append(f"{path}.{key}: must be an object")
            continue
        value = range_map.get("inputMaxValue")
        if "inputMaxValue" in range_map and not (_is_number(value) and 0.0 <= value <= 180.0):
            problems.append(f"{path}.{key}.inputMaxValue: must be a number in [0, 180], got {value!r}")
        if "outputScale" in range_map and not _is_number(range_map["outputScale"]):
            problems.append(f"{path}.{key}.outputScale: must be a number, got {range_map['outputScale']!r}")
    return problems


def _check_first_person(doc: _Doc, first_person: dict[str, Any]) -> list[str]:
    path = f"{_VRM}.firstPerson.meshAnnotations"
    if "meshAnnotations" not in first_person:
        return []
    annotations = first_person["meshAnnotations"]
    if not (isinstance(annotations, list) and annotations):
        return [f"{path}: must be a non-empty list"]
    problems: list[str] = []
    for i, annotation in enumerate(annotations):
        annotation = _as_dict(annotation)
        node = annotation.get("node")
        if not doc.has_node(node):
            problems.append(f"{path}[{i}].node: {node!r} is not a node index")
        elif doc.node_mesh(node) is None:
            problems.append(f"{path}[{i}].node: node {node} has no mesh")
        if annotation.get("type") not in FIRST_PERSON_TYPES:
            problems.append(f"{path}[{i}].type: {annotation.get('type')!r} is not one of {list(FIRST_PERSON_TYPES)}")
    return problems


# ----------------------------------------------------------------------------------------------- VRMC_springBone


def _check_collider(doc: _Doc, collider: Any, path: str) -> list[str]:
    collider = _as_dict(collider)
    problems: list[str] = []
    if not doc.has_node(collider.get("node")):
        problems.append(f"{path}.node: {collider.get('node')!r} is not a node index")
    shape = collider.get("shape")
    if not isinstance(shape, dict):
        return problems + [f"{path}.shape: required object is missing"]
    kinds = [k for k in ("sphere", "capsule") if k in shape]
    if len(kinds) != 1:
        return problems + [f"{path}.shape: must have exactly one of 'sphere' or 'capsule', got {kinds}"]
    body = shape[kinds[0]]
    if not isinstance(body, dict):
        return problems + [f"{path}.shape.{kinds[0]}: must be an object"]
    if "radius" in body and not (_is_number(body["radius"]) and body["radius"] >= 0):
        problems.append(f"{path}.shape.{kinds[0]}.radius: must be a number >= 0, got {body['radius']!r}")
    for key in ("offset", "tail") if kinds[0] == "capsule" else ("offset",):
        if key in body and not _is_vector(body[key], 3):
            problems.append(f"{path}.shape.{kinds[0]}.{key}: must be a list of 3 numbers")
    return problems


def _check_joint(doc: _Doc, joint: Any, path: str) -> list[str]:
    joint = _as_dict(joint)
    problems: list[str] = []
    if not doc.has_node(joint.get("node")):
        problems.append(f"{path}.node: {joint.get('node')!r} is not a node index")
    for key in ("hitRadius", "stiffness", "gravityPower"):
        if key in joint and not (_is_number(joint[key]) and joint[key] >= 0):
            problems.append(f"{path}.{key}: must be a number >= 0, got {joint[key]!r}")
    if "dragForce" in joint and not (_is_number(joint["dragForce"]) and 0 <= joint["dragForce"] <= 1):
        problems.append(f"{path}.dragForce: must be a number in [0, 1], got {joint['dragForce']!r}")
    if "gravityDir" in joint and not _is_vector(joint["gravityDir"], 3):
        problems.append(f"{path}.gravityDir: must be a list of 3 numbers")
    return problems


def _chain_nodes(doc: _Doc, joints: list[int], path: str) -> tuple[list[int], list[str]]:
    """Nodes a spring covers (its joints plus the skipped nodes between them) and chain-order problems."""
    problems: list[str] = []
    covered: list[int] = joints[:1]
    for n in range(len(joints) - 1):
        head, tail = joints[n], joints[n + 1]
        ancestors = doc.ancestors(tail)
        if head not in ancestors:
            problems.append(f"{path}.joints[{n + 1}]: node {tail} is not a descendant of joints[{n}] (node {head}); "
                            "joints[n] must be a parent or ancestor of joints[n+1]")
            covered.append(tail)
            continue
        between = ancestors[:ancestors.index(head)]
        covered += list(reversed(between)) + [tail]
    return covered, problems


def _check_spring_center(doc: _Doc, center: Any, s: int, chains: dict[int, list[int]], path: str) -> list[str]:
    if not doc.has_node(center):
        return [f"{path}.center: {center!r} is not a node index"]
    problems: list[str] = []
    first = chains[s][0] if chains.get(s) else None
    if first is not None and center != first and not doc.is_ancestor(center, first):
        problems.append(f"{path}.center: node {center} must be joints[0] (node {first}) or an ancestor of it")
    for other, joints in chains.items():
        if other == s:
            continue
        for j in joints:
            if center == j or doc.is_ancestor(j, center):
                problems.append(f"{path}.center: node {center} must not be a joint of springs[{other}] "
                                f"(node {j}) or a descendant of one")
                break
    return problems


def _check_springs(doc: _Doc, springs: list[Any], group_count: int) -> list[str]:
    problems: list[str] = []
    joints_of: dict[int, list[int]] = {}
    owner: dict[int, int] = {}
    for s, spring in enumerate(springs):
        path = f"{_SPRING}.springs[{s}]"
        spring = _as_dict(spring)
        joints = spring.get("joints")
        if not (isinstance(joints, list) and joints):
            problems.append(f"{path}.joints: required non-empty list")
            joints = []
        for j, joint in enumerate(joints):
            problems += _check_joint(doc, joint, f"{path}.joints[{j}]")
        nodes = [_as_dict(j).get("node") for j in joints]
        joints_of[s] = [n for n in nodes if doc.has_node(n)]
        if len(joints_of[s]) == len(nodes):
            covered, chain_problems = _chain_nodes(doc, joints_of[s], path)
            problems += chain_problems
        else:
            covered = joints_of[s]
        for node in dict.fromkeys(covered):
            if node in owner and owner[node] != s:
                problems.append(f"{path}: node {node} also belongs to springs[{owner[node]}] "
                                "(a joint, or a node skipped between joints, may be in one spring only)")
            owner.setdefault(node, s)
        if "colliderGroups" in spring:
            groups = spring["colliderGroups"]
            if not (isinstance(groups, list) and groups):
                problems.append(f"{path}.colliderGroups: must be a non-empty list")
            for g in _as_list(groups):
                if not (_is_index(g) and g < group_count):
                    problems.append(f"{path}.colliderGroups: {g!r} is not a colliderGroups index")
    for s, spring in enumerate(springs):
        if "center" in _as_dict(spring):
            problems += _check_spring_center(doc, spring["center"], s, joints_of, f"{_SPRING}.springs[{s}]")
    return problems


def _check_spring_bone(doc: _Doc, spring_bone: Any) -> list[str]:
    if not isinstance(spring_bone, dict):
        return [f"{_SPRING}: must be an object"]
    problems: list[str] = []
    if "VRMC_springBone" not in _as_list(doc.gltf.get("extensionsUsed")):
        problems.append("extensionsUsed: must contain 'VRMC_springBone' (extensions.VRMC_springBone is present)")
    if spring_bone.get("specVersion") != SPRING_SPEC_VERSION:
        problems.append(f"{_SPRING}.specVersion: must be {SPRING_SPEC_VERSION!r}, "
                        f"got {spring_bone.get('specVersion')!r}")
    for key in ("colliders", "colliderGroups", "springs"):
        if key in spring_bone and not (isinstance(spring_bone[key], list) and spring_bone[key]):
            problems.append(f"{_SPRING}.{key}: must be a non-empty list")
    colliders = _as_list(spring_bone.get("colliders"))
    for c, collider in enumerate(colliders):
        problems += _check_collider(doc, collider, f"{_SPRING}.colliders[{c}]")
    groups = _as_list(spring_bone.get("colliderGroups"))
    for g, group in enumerate(groups):
        members = _as_dict(group).get("colliders")
        if not (isinstance(members, list) and members):
            problems.append(f"{_SPRING}.colliderGroups[{g}].colliders: required non-empty list")
        for c in _as_list(members):
            if not (_is_index(c) and c < len(colliders)):
                problems.append(f"{_SPRING}.colliderGroups[{g}].colliders: {c!r} is not a colliders index")
    return problems + _check_springs(doc, _as_list(spring_bone.get("springs")), len(groups))


# ----------------------------------------------------------------------------------------------- rest pose


Vec3 = tuple[float, float, float]
Mat4 = list[list[float]]  # row-major 4x4


def _local_matrix(node: dict[str, Any]) -> Mat4:
    """A node's local transform as a row-major 4x4 (glTF: T * R * S, or the column-major ``matrix``)."""
    m = node.get("matrix")
    if _is_vector(m, 16):
        return [[m[c * 4 + r] for c in range(4)] for r in range(4)]
    t = node.get("translation") if _is_vector(node.get("translation"), 3) else [0.0, 0.0, 0.0]
    q = node.get("rotation") if _is_vector(node.get("rotation"), 4) else [0.0, 0.0, 0.0, 1.0]
    s = node.get("scale") if _is_vector(node.get("scale"), 3) else [1.0, 1.0, 1.0]
    x, y, z, w = q
    rot = [
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ]
    return [[rot[r][0] * s[0], rot[r][1] * s[1], rot[r][2] * s[2], t[r]] for r in range(3)] + [[0.0, 0.0, 0.0, 1.0]]


def _matmul(a: Mat4, b: Mat4) -> Mat4:
    return [[sum(a[r][k] * b[k][c] for k in range(4)) for c in range(4)] for r in range(4)]


def _world_matrices(doc: _Doc) -> list[Mat4]:
    """World (model-space) matrix of every node; assumes an acyclic hierarchy."""
    cache: dict[int, Mat4] = {}

    def world(i: int) -> Mat4:
        if i not in cache:
            local = _local_matrix(doc.node(i))
            p = doc.parent.get(i)
            cache[i] = local if p is None else _matmul(world(p), local)
        return cache[i]

    return [world(i) for i in range(len(doc.nodes))]


def _angle_deg(v: Vec3, target: Vec3) -> float:
    """Angle between two vectors in degrees (180 for a zero vector)."""
    nv = math.sqrt(sum(c * c for c in v))
    nt = math.sqrt(sum(c * c for c in target))
    if nv == 0 or nt == 0:
        return 180.0
    cos = sum(a * b for a, b in zip(v, target)) / (nv * nt)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def _mesh_min_max_y(doc: _Doc, worlds: list[Mat4]) -> tuple[float, float] | None:
    """Lowest and highest Y of all POSITION accessors' bounds in model space, or None without bounds."""
    accessors = _as_list(doc.gltf.get("accessors"))
    ys: list[float] = []
    for i in range(len(doc.nodes)):
        mesh = doc.node_mesh(i)
        if mesh is None:
            continue
        skinned = "skin" in doc.node(i)  # glTF: a skinned mesh ignores its node's transform
        for prim in _as_list(mesh.get("primitives")):
            a = _as_dict(prim).get("attributes", {}).get("POSITION")
            acc = _as_dict(accessors[a]) if _is_index(a) and a < len(accessors) else {}
            lo, hi = acc.get("min"), acc.get("max")
            if not (_is_vector(lo, 3) and _is_vector(hi, 3)):
                continue
            m = worlds[i]
            for corner in ((x, y, z) for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])):
                ys.append(corner[1] if skinned else sum(m[1][k] * corner[k] for k in range(3)) + m[1][3])
    return (min(ys), max(ys)) if ys else None


def _pose_directions() -> list[tuple[str, str, Vec3, str]]:
    """(from bone, to bone, expected model-space direction, tpose.md definition) for the T-pose heuristics."""
    s45 = math.sqrt(0.5)
    rules: list[tuple[str, str, Vec3, str]] = [("hips", "head", (0.0, 1.0, 0.0), "1.1 standing straight")]
    for side, sx in (("left", 1.0), ("right", -1.0)):
        rules += [
            (f"{side}UpperArm", f"{side}LowerArm", (sx, 0.0, 0.0), "1.4 arms along X, level"),
            (f"{side}LowerArm", f"{side}Hand", (sx, 0.0, 0.0), "1.4 arms along X, level"),
            (f"{side}UpperLeg", f"{side}LowerLeg", (0.0, -1.0, 0.0), "1.1 standing straight"),
            (f"{side}LowerLeg", f"{side}Foot", (0.0, -1.0, 0.0), "1.1 standing straight"),
            (f"{side}Hand", f"{side}MiddleProximal", (sx, 0.0, 0.0), "1.6 hands along X, level"),
            (f"{side}ThumbMetacarpal", f"{side}ThumbProximal", (sx * s45, 0.0, s45), "1.8 thumbs 45 deg X/+Z"),
            (f"{side}ThumbProximal", f"{side}ThumbDistal", (sx * s45, 0.0, s45), "1.8 thumbs 45 deg X/+Z"),
        ]
        for finger in ("Index", "Middle", "Ring", "Little"):
            rules += [
                (f"{side}{finger}Proximal", f"{side}{finger}Intermediate", (sx, 0.0, 0.0), "1.7 fingers along X"),
                (f"{side}{finger}Intermediate", f"{side}{finger}Distal", (sx, 0.0, 0.0), "1.7 fingers along X"),
            ]
    return rules


_MIRRORED = ("Eye", "Shoulder", "UpperArm", "LowerArm", "Hand", "UpperLeg", "LowerLeg", "Foot", "Toes")


def _check_rest_pose(doc: _Doc, bones: dict[str, int], angle_tol_deg: float, length_tol: float) -> list[str]:
    """T-pose heuristics from node transforms (tpose.md definitions 1.1-1.8); see the module docstring."""
    if not doc.hierarchy_ok or not {"hips", "head"} <= set(bones):
        return []
    worlds = _world_matrices(doc)
    pos: dict[str, Vec3] = {b: (worlds[n][0][3], worlds[n][1][3], worlds[n][2][3]) for b, n in bones.items()}
    bounds = _mesh_min_max_y(doc, worlds)
    feet = [pos[f][1] for f in ("leftFoot", "rightFoot") if f in pos]
    height = (bounds[1] - bounds[0]) if bounds else pos["head"][1] - min(feet, default=0.0)
    tol = length_tol * max(height, 1e-6)
    problems: list[str] = []
    for part in _MIRRORED:
        left, right = pos.get(f"left{part}"), pos.get(f"right{part}")
        if left is None or right is None:
            continue
        if not left[0] > right[0]:
            problems.append(f"rest pose: left{part} (x={left[0]:.3f}) must be on +X of right{part} "
                            f"(x={right[0]:.3f}); the model must face +Z (tpose.md 1.1)")
        elif abs(left[0] + right[0]) > tol or abs(left[1] - right[1]) > tol or abs(left[2] - right[2]) > tol:
            problems.append(f"rest pose: left{part} {_fmt(left)} and right{part} {_fmt(right)} are not mirrored "
                            "across X = 0 (tpose.md 1.1 symmetrical on the X axis)")
    for a, b, direction, rule in _pose_directions():
        if a in pos and b in pos:
            v = tuple(pos[b][k] - pos[a][k] for k in range(3))
            angle = _angle_deg(v, direction)
            if angle > angle_tol_deg:
                problems.append(f"rest pose: {a} -> {b} is {angle:.0f} deg off {_fmt(direction)} (tpose.md {rule})")
    for side in ("left", "right"):
        foot, toes = pos.get(f"{side}Foot"), pos.get(f"{side}Toes")
        if foot and toes:
            angle = _angle_deg((toes[0] - foot[0], 0.0, toes[2] - foot[2]), (0.0, 0.0, 1.0))
            if angle > angle_tol_deg:
                problems.append(f"rest pose: {side}Foot -> {side}Toes is {angle:.0f} deg off +Z "
                                "(tpose.md 1.2 feet parallel to Z, toes toward +Z)")
    if bounds and abs(bounds[0]) > tol:
        problems.append(f"rest pose: lowest vertex is at y={bounds[0]:.3f}; the model must be grounded at Y = 0 "
                        "(tpose.md 1.3)")
    return problems


def _fmt(v: Vec3) -> str:
    return "(" + ", ".join(f"{c:.3f}" for c in v) + ")"


# ----------------------------------------------------------------------------------------------- entry points


def vrm_problems(gltf: dict[str, Any], *, check_rest_pose: bool = True, angle_tol_deg: float = 15.0,
                 length_tol: float = 0.02) -> list[str]:
    """Every VRM 1.0 rule the glTF JSON of a .vrm violates, one human-readable string each ([] = conforms).

    ``check_rest_pose`` enables the T-pose heuristics (prefixed ``rest pose:``); ``angle_tol_deg`` bounds how far a
    bone segment may point away from its T-pose direction and ``length_tol`` (a fraction of the model's height)
    bounds mirror asymmetry and the distance of the lowest vertex from Y = 0.
    """
    if not isinstance(gltf, dict):
        return ["the glTF JSON must be an object"]
    doc, problems = _Doc.build(gltf)
    problems += _check_gltf_core(doc)
    problems += _check_node_scales(doc)
    vrm, root_problems = _check_vrm_root(doc)
    problems += root_problems
    bones: dict[str, int] = {}
    if vrm is not None:
        if isinstance(vrm.get("meta"), dict):
            problems += _check_meta(doc, vrm["meta"])
        if isinstance(vrm.get("humanoid"), dict):
            bones, humanoid_problems = _check_humanoid(doc, vrm["humanoid"])
            problems += humanoid_problems
        if isinstance(vrm.get("expressions"), dict):
            problems += _check_expressions(doc, vrm["expressions"])
        if isinstance(vrm.get("lookAt"), dict):
            problems += _check_look_at(vrm["lookAt"], bones)
        if isinstance(vrm.get("firstPerson"), dict):
            problems += _check_first_person(doc, vrm["firstPerson"])
    extensions = _as_dict(gltf.get("extensions"))
    if "VRMC_springBone" in extensions:
        problems += _check_spring_bone(doc, extensions["VRMC_springBone"])
    if check_rest_pose:
        problems += _check_rest_pose(doc, bones, angle_tol_deg, length_tol)
    return problems


def _image_size(data: bytes) -> tuple[str, int, int] | None:
    """(mime type, width, height) of PNG or baseline/progressive JPEG bytes, or None for anything else."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack_from(">II", data, 16)
        return "image/png", width, height
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, *range(0xD0, 0xDA)):  # markers without a length
            i += 2
            continue
        (seg_len,) = struct.unpack_from(">H", data, i + 2)
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and i + 9 <= len(data):
            height, width = struct.unpack_from(">HH", data, i + 5)
            return "image/jpeg", width, height
        i += 2 + seg_len
    return None


def _image_bytes(gltf: dict[str, Any], binary: bytes | None, image: dict[str, Any]) -> bytes | None:
    """The encoded bytes of an image stored in the GLB's BIN chunk or a data URI (None otherwise)."""
    uri = image.get("uri")
    if isinstance(uri, str) and uri.startswith("data:") and ";base64," in uri:
        return base64.b64decode(uri.split(";base64,", 1)[1])
    views = _as_list(gltf.get("bufferViews"))
    bv = image.get("bufferView")
    if binary is None or not (_is_index(bv) and bv < len(views)):
        return None
    view = _as_dict(views[bv])
    if view.get("buffer") != 0 or "uri" in _as_dict(_as_list(gltf.get("buffers"))[0] if gltf.get("buffers") else {}):
        return None
    start = view.get("byteOffset", 0)
    return binary[start:start + view.get("byteLength", 0)]


def vrm_file_problems(path: str | Path, **kwargs: Any) -> list[str]:
    """:func:`vrm_problems` of a .vrm file plus the thumbnail rules that need the image bytes (square, PNG/JPEG)."""
    gltf, binary = read_glb(path)
    problems = vrm_problems(gltf, **kwargs)
    meta = _as_dict(_as_dict(_as_dict(gltf.get("extensions")).get("VRMC_vrm")).get("meta"))
    index = meta.get("thumbnailImage")
    images = _as_list(gltf.get("images"))
    if not (_is_index(index) and index < len(images)):
        return problems
    image = _as_dict(images[index])
    data = _image_bytes(gltf, binary, image)
    if data is None:
        return problems
    where = f"{_VRM}.meta.thumbnailImage"
    info = _image_size(data)
    if info is None:
        return problems + [f"{where}: images[{index}] bytes are neither PNG nor JPEG"]
    mime, width, height = info
    if image.get("mimeType", mime) != mime:
        problems.append(f"{where}: images[{index}] mimeType {image.get('mimeType')!r} but the bytes are {mime}")
    if width != height:
        problems.append(f"{where}: thumbnail must be square, got {width}x{height}")
    return problems


def vrm_advisories(gltf: dict[str, Any]) -> list[str]:
    """The spec's recommendations a .vrm does not follow (never failures; see the module docstring)."""
    notes: list[str] = []
    for key in ("animations", "cameras"):
        if _as_list(gltf.get(key)):
            notes.append(f"{key}: not used by VRM 1.0 (README 'Unused Items')")
    for m, mesh in enumerate(_as_list(gltf.get("meshes"))):
        mesh = _as_dict(mesh)
        prims = [_as_dict(p) for p in _as_list(mesh.get("primitives"))]
        targets = max((len(_as_list(p.get("targets"))) for p in prims), default=0)
        if any("TANGENT" in _as_dict(t) for p in prims for t in _as_list(p.get("targets"))):
            notes.append(f"meshes[{m}]: morph targets carry TANGENT (README: do not export)")
        names = _as_dict(mesh.get("extras")).get("targetNames")
        if targets and (not isinstance(names, list) or len(names) != targets):
            notes.append(f"meshes[{m}].extras.targetNames: recommended, one name per morph target")
    for name, tex in _iter_texture_transforms(gltf):
        for key in ("rotation", "texCoord"):
            if key in tex:
                notes.append(f"{name}: KHR_texture_transform.{key} is not recommended with VRM 1.0")
    vrm = _as_dict(_as_dict(gltf.get("extensions")).get("VRMC_vrm"))
    look_at = vrm.get("lookAt")
    if isinstance(look_at, dict) and "offsetFromHeadBone" not in look_at:
        notes.append(f"{_VRM}.lookAt.offsetFromHeadBone: absent (implementations fall back to their own value)")
    kinds = {"overrideBlink": ("blink", "blinkLeft", "blinkRight"), "overrideMouth": ("aa", "ih", "ou", "ee", "oh"),
             "overrideLookAt": ("lookUp", "lookDown", "lookLeft", "lookRight")}
    for name, expression in _as_dict(_as_dict(vrm.get("expressions")).get("preset")).items():
        for key, same_kind in kinds.items():
            if name in same_kind and _as_dict(expression).get(key, "none") != "none":
                notes.append(f"{_VRM}.expressions.preset.{name}.{key}: same-kind override is treated as invalid")
    return notes


def _iter_texture_transforms(gltf: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(material path, KHR_texture_transform object) for every texture info of every material."""
    out: list[tuple[str, dict[str, Any]]] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            tt = _as_dict(value.get("extensions")).get("KHR_texture_transform")
            if isinstance(tt, dict):
                out.append((path, tt))
            for key, item in value.items():
                if key != "extras":
                    walk(item, f"{path}.{key}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]")

    walk(_as_list(gltf.get("materials")), "materials")
    return out
