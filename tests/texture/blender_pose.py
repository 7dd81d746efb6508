"""Import a GLB with Blender's own glTF importer and pose it, as an artist would.

    blender -b --factory-startup --python blender_pose.py -- FILE.glb [TIME ...]

Prints one line ``JSON{...}``: what the importer made (armature, bones, the mesh's parent,
modifiers and vertex groups, actions, images, the material's base colour link, shape keys) and the
deformed vertex positions (Blender's own armature deformation, in glTF's Y-up axes) at rest, at each
TIME (seconds) of the imported action and, with a ``jawOpen`` shape key, at rest with it at 1.
Also runs under a Python with the ``bpy`` module (PyPI):
``python blender_pose.py -- FILE.glb [TIME ...]``.
"""
import json
import sys

import numpy

if not hasattr(numpy, "bool"):  # Debian 12's Blender 3.4 glTF add-on still says np.bool (gone in numpy 1.24)
    numpy.bool = bool

import bpy  # noqa: E402

args = sys.argv[sys.argv.index("--") + 1:]
path, times = args[0], [float(t) for t in args[1:]]
bpy.ops.wm.read_factory_settings(use_empty=True)
result = bpy.ops.import_scene.gltf(filepath=path)
scene = bpy.context.scene
arms = [o for o in scene.objects if o.type == "ARMATURE"]
# Blender 4+ adds an icosphere for its bone display in a hidden collection of its own
meshes = [o for o in scene.objects if o.type == "MESH"
          and not {c.name for c in o.users_collection} <= {"glTF_not_exported"}]
out = {"blender": bpy.app.version_string, "result": sorted(result), "armatures": len(arms), "meshes": len(meshes)}


def deformed(obj) -> list:
    depsgraph = bpy.context.evaluated_depsgraph_get()
    ev = obj.evaluated_get(depsgraph)
    me = ev.to_mesh()
    mw = ev.matrix_world
    xyz = [tuple(mw @ v.co) for v in me.vertices]
    ev.to_mesh_clear()
    return [[x, z, -y] for x, y, z in xyz]  # Blender Z-up -> glTF Y-up


if arms and meshes:
    arm, mesh = arms[0], meshes[0]
    mat = mesh.active_material
    bsdf = [n for n in mat.node_tree.nodes if n.type == "BSDF_PRINCIPLED"] if mat and mat.use_nodes else []
    action = arm.animation_data.action if arm.animation_data else None
    out.update(
        armature=arm.name, bones=[b.name for b in arm.data.bones], parent=mesh.parent.name if mesh.parent else None,
        modifiers=[[m.type, m.object.name if getattr(m, "object", None) else None] for m in mesh.modifiers],
        vertex_groups=[g.name for g in mesh.vertex_groups], action=action.name if action else None,
        actions=len(bpy.data.actions), fps=scene.render.fps / scene.render.fps_base,
        images=[[list(i.size), i.packed_file is not None] for i in bpy.data.images],
        base_color_textured=bool(bsdf) and any(link.from_node.type == "TEX_IMAGE"
                                              for link in bsdf[0].inputs["Base Color"].links))
    scene.frame_set(0)
    out["rest"] = deformed(mesh)
    out["posed"] = []
    for t in times:
        frame = t * out["fps"]
        scene.frame_set(int(frame), subframe=frame - int(frame))
        out["posed"].append(deformed(mesh))
    keys = mesh.data.shape_keys  # the morph targets, one shape key each after "Basis"
    out["shape_keys"] = [k.name for k in keys.key_blocks][1:] if keys else []
    if keys and "jawOpen" in keys.key_blocks:  # the mouth open, at rest
        keys.animation_data_clear()
        arm.animation_data_clear()
        for pb in arm.pose.bones:
            pb.matrix_basis.identity()
        keys.key_blocks["jawOpen"].value = 1.0
        scene.frame_set(0)
        out["jaw_open"] = deformed(mesh)
print("JSON" + json.dumps(out), flush=True)
