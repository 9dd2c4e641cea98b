"""Shaders, priors and the demo clip are found from the installed package."""

import soundfile as sf

import dreamengine
from dreamengine.resources import PACKAGE_ROOT, demo_clip, priors_dir, shaders_dir


def test_resources_are_found() -> None:
    assert (shaders_dir() / "fullscreen.vert").is_file()
    assert (priors_dir() / "class_map.toml").is_file()
    info = sf.info(str(demo_clip()))
    assert info.duration > 5


def test_installed_package_carries_its_own_resources() -> None:
    """In a non-editable install the resources sit inside the package, not in a checkout."""
    if "site-packages" not in dreamengine.__file__:
        return  # running from a source checkout: the repository's folders are used
    assert shaders_dir().parent == PACKAGE_ROOT
    assert priors_dir().parent == PACKAGE_ROOT
