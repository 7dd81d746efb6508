"""Measurements on exported GLB meshes shared by the generate tests."""
import numpy as np


def load_mesh(path):
    import trimesh

    scene = trimesh.load(path, force="scene")
    parts = list(scene.geometry.values())
    for g in parts:  # one primitive per material: sample each one's texture before merging (trimesh's merge
        g.visual = g.visual.to_color()  # of textured parts re-packs their textures and loses the colours)
    return trimesh.util.concatenate(parts)


def proportions(mesh):
    v = np.asarray(mesh.vertices)
    h = v[:, 1].max() - v[:, 1].min()
    band = v[(v[:, 1] > 0.2 * h) & (v[:, 1] < 0.4 * h)]  # thighs: below the hands of the A-pose at any height
    return h, h / (band[:, 0].max() - band[:, 0].min())


def torso_color(mesh):
    v = np.asarray(mesh.vertices)
    h = v[:, 1].max()
    visual = mesh.visual.to_color() if hasattr(mesh.visual, "to_color") else mesh.visual
    cols = np.asarray(visual.vertex_colors)[:, :3].astype(float)
    m = (v[:, 1] > 0.6 * h) & (v[:, 1] < 0.75 * h) & (np.abs(v[:, 0]) < 0.12)
    return cols[m].mean(0)


def legs_color(mesh):
    """Mean vertex colour of the thighs (a fifth to two fifths up: below the hands of the T-pose)."""
    v = np.asarray(mesh.vertices)
    h0, h = v[:, 1].min(), v[:, 1].max() - v[:, 1].min()
    visual = mesh.visual.to_color() if hasattr(mesh.visual, "to_color") else mesh.visual
    cols = np.asarray(visual.vertex_colors)[:, :3].astype(float)
    m = (v[:, 1] > h0 + 0.25 * h) & (v[:, 1] < h0 + 0.4 * h)
    return cols[m].mean(0)
