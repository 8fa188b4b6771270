import pytest

from insiena.config import comparators_for, load_config, validate_config
from insiena.errors import ConfigError


def test_defaults_fill_every_key(root):
    cfg = validate_config({}, root)
    assert cfg["provinces"] == ["052"]
    assert cfg["download"] == "fallback"
    assert cfg["areas"]["SAMEDI"]["provinces"] == ["051", "052", "053"]


def test_project_config_is_valid(root):
    cfg = load_config(root=root)
    assert cfg["provinces"] == ["052"]


@pytest.mark.parametrize("override, key", [
    ({"provinse": ["052"]}, "provinse"),
    ({"provinces": ["999"]}, "provinces"),
    ({"provinces": "52"}, "provinces"),
    ({"download": "sometimes"}, "download"),
    ({"comparators": {"052": ["XYZ"]}}, "comparators.052"),
    ({"areas": {"SAMEDI": {"name": "x", "provinces": ["000"]}}}, "areas.SAMEDI.provinces"),
])
def test_bad_values_give_one_line_naming_the_key(root, override, key):
    with pytest.raises(ConfigError) as exc:
        validate_config(override, root)
    message = str(exc.value)
    assert "\n" not in message
    assert f"'{key}'" in message


def test_all_expands_to_every_province(root):
    cfg = validate_config({"provinces": "all"}, root)
    assert len(cfg["provinces"]) == 107
    assert {"052", "053", "111"} <= set(cfg["provinces"])


def test_comparators_of_siena_and_of_a_province_without_extras(root):
    cfg = validate_config({"provinces": ["052", "015"]}, root)
    assert [c["code"] for c in comparators_for(cfg, "052", root)] == ["051", "053", "SAMEDI", "09", "IT"]
    assert [c["code"] for c in comparators_for(cfg, "015", root)] == ["03", "IT"]


def test_unsafe_yaml_tag_is_refused(tmp_path, root):
    bad = tmp_path / "config.yaml"
    bad.write_text("provinces: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="unsafe or unknown YAML tag"):
        load_config(bad, root=root)


def test_mirror_env_overrides_config(monkeypatch, root, tmp_path):
    monkeypatch.setenv("INSIENA_MIRROR", str(tmp_path))
    assert validate_config({}, root)["mirror_dir"] == str(tmp_path)
