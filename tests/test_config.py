"""Config overrides: dotted keys, TOML files, and errors that name the key."""

from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from dreamengine.config import apply_overrides, parse_assignments
from dreamengine.engine import EngineConfig, load_config
from dreamengine.errors import DreamengineError


def test_dotted_override_changes_only_that_field() -> None:
    base = EngineConfig()
    cfg = apply_overrides(base, {"sampler.lr": "0.5", "selection.top_k": "2"})
    assert cfg.sampler.lr == 0.5 and cfg.selection.top_k == 2
    assert cfg.sampler.eps1 == base.sampler.eps1


def test_configs_are_frozen() -> None:
    with pytest.raises(FrozenInstanceError):
        EngineConfig().sampler.lr = 1.0  # type: ignore[misc]


def test_toml_file_then_cli_override(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[sampler]\nlr = 0.25\neps3 = 0\n[render]\ncrossfade_s = 1\n")
    cfg = load_config(path, {"sampler.lr": "0.125"})
    assert cfg.sampler.lr == 0.125  # the CLI wins over the file
    assert cfg.sampler.eps3 == 0.0 and isinstance(cfg.sampler.eps3, float)
    assert cfg.render.crossfade_s == 1.0


@pytest.mark.parametrize(("overrides", "message"), [
    ({"sampler.nope": "1"}, "unknown config key 'sampler.nope'"),
    ({"nope.lr": "1"}, "unknown config key 'nope.lr'"),
    ({"sampler.lr": "fast"}, "config key 'sampler.lr' expects float"),
    ({"selection.top_k": "2.5"}, "config key 'selection.top_k' expects int"),
    ({"sampler": "1"}, "is a section"),
    ({"sampler.lr.x": "1"}, "has no sub-keys"),
    ({"prior.prior.latent_dim": "64"}, "config key 'prior.prior.latent_dim'"),
])
def test_bad_keys_and_types_name_the_key(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(DreamengineError, match=message.replace(".", r"\.")):
        load_config(None, overrides)


def test_toml_wrong_type_names_key(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[sampler]\nsteps_per_keyframe = "many"\n')
    with pytest.raises(DreamengineError, match="sampler.steps_per_keyframe"):
        load_config(path)


def test_missing_and_malformed_config_files(tmp_path: Path) -> None:
    with pytest.raises(DreamengineError, match="config file not found"):
        load_config(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[sampler\n")
    with pytest.raises(DreamengineError, match="cannot read config file"):
        load_config(bad)


def test_assignment_parsing() -> None:
    assert parse_assignments(["a.b=1", " c = x=y "]) == {"a.b": "1", "c": "x=y"}
    with pytest.raises(DreamengineError, match="KEY=VALUE"):
        parse_assignments(["novalue"])


def test_cross_component_validation() -> None:
    with pytest.raises(DreamengineError, match="audio.sr"):
        load_config(None, {"audio.sr": "22050"})
    with pytest.raises(DreamengineError, match="dream.worker must be process or thread"):
        load_config(None, {"dream.worker": "fork"})


def test_config_command_prints_every_parameter_with_its_unit(tmp_path: Path) -> None:
    from dreamengine.cli import main
    from dreamengine.config import dump_toml
    from dreamengine.engine import load_config

    text = dump_toml(load_config())
    assert "[sampler]" in text and "[prior.generator]" in text and "[render]" in text
    settings = [line for line in text.splitlines() if " = " in line]
    assert all("  # " in line for line in settings), [x for x in settings if "#" not in x]
    out = tmp_path / "all.toml"
    assert main(["config", "--set", "sampler.lr=0.12", "--out", str(out)]) == 0
    again = load_config(out)
    assert again == load_config(overrides={"sampler.lr": "0.12"})
