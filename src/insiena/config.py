"""Load and validate config/config.yaml against config/config.schema.yaml.

Errors are one line naming the key, so that a typo in a key or a wrong province code is fixed
without reading a traceback.
"""

from __future__ import annotations

import copy
import csv
import os
import sys
from pathlib import Path
from typing import Any

# jsonschema imports rfc3987_syntax when it is installed (Jupyter pulls it in), which compiles about
# forty grammars at import time (5 s per Snakemake start). No schema here uses IRI formats.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

import jsonschema  # noqa: E402
import yaml  # noqa: E402

from insiena.errors import ConfigError
from insiena.paths import project_root


# libyaml's safe loader, when PyYAML was built with it: the same documents and errors, about ten
# times faster on the indicator catalogue, which several jobs read.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: str | os.PathLike) -> Any:
    """Parse YAML with the safe loader: tags such as !!python/object are refused, not executed."""
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        where = f" (line {mark.line + 1})" if mark else ""
        raise ConfigError(f"{path}{where}: unsafe or unknown YAML tag refused: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None


def schema(root: Path | None = None) -> dict:
    return load_yaml((root or project_root()) / "config" / "config.schema.yaml")


def _apply_defaults(cfg: dict, sch: dict) -> dict:
    out = copy.deepcopy(cfg)
    for key, spec in sch.get("properties", {}).items():
        if key not in out and "default" in spec:
            out[key] = copy.deepcopy(spec["default"])
    return out


def _key_path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(top level)"


def province_table(root: Path | None = None) -> list[dict[str, str]]:
    path = (root or project_root()) / "config" / "territory_crosswalk.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def validate_config(cfg: Any, root: Path | None = None) -> dict:
    """Return the config with defaults filled in and `provinces` expanded to a sorted list."""
    root = root or project_root()
    if cfg is None:
        cfg = {}
    if not isinstance(cfg, dict):
        raise ConfigError("config: the top level must be a mapping of keys to values")
    sch = schema(root)
    unknown = sorted(set(cfg) - set(sch["properties"]))
    if unknown:
        raise ConfigError(f"config: unknown key '{unknown[0]}' (allowed: {', '.join(sorted(sch['properties']))})")
    cfg = _apply_defaults(cfg, sch)
    errors = sorted(jsonschema.Draft202012Validator(sch).iter_errors(cfg), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        value = err.instance if not isinstance(err.instance, (dict, list)) else ""
        detail = f"value {value!r} is not valid" if value != "" else err.message
        raise ConfigError(f"config: key '{_key_path(err)}': {detail} ({err.schema.get('description', '').strip()[:120] or err.message})")

    provinces = {r["code"]: r for r in province_table(root) if r["level"] == "provincia"}
    wanted = cfg["provinces"]
    if wanted == "all":
        wanted = sorted(provinces)
    elif isinstance(wanted, str):
        wanted = [wanted]
    for code in wanted:
        if code not in provinces:
            raise ConfigError(f"config: key 'provinces': '{code}' is not an ISTAT province code "
                              f"(see config/territory_crosswalk.csv)")
    cfg["provinces"] = sorted(wanted)
    for prov, items in cfg["comparators"].items():
        for item in items:
            if item not in provinces and item not in cfg["areas"]:
                raise ConfigError(f"config: key 'comparators.{prov}': '{item}' is neither a province code nor an area id")
    for area, spec in cfg["areas"].items():
        for code in spec["provinces"]:
            if code not in provinces:
                raise ConfigError(f"config: key 'areas.{area}.provinces': '{code}' is not an ISTAT province code")
    mirror = os.environ.get("INSIENA_MIRROR") or cfg["mirror_dir"]
    cfg["mirror_dir"] = str((root / mirror).resolve()) if not os.path.isabs(mirror) else mirror
    return cfg


def load_config(path: str | os.PathLike | None = None, overrides: dict | None = None,
                root: Path | None = None) -> dict:
    root = root or project_root()
    cfg = load_yaml(path or root / "config" / "config.yaml") or {}
    if overrides:
        cfg.update(overrides)
    return validate_config(cfg, root)


def comparators_for(cfg: dict, province: str, root: Path | None = None) -> list[dict[str, Any]]:
    """Comparator territories of a province, in display order: config extras, region, Italy."""
    table = {r["code"]: r for r in province_table(root)}
    out: list[dict[str, Any]] = []
    for item in cfg["comparators"].get(province, []):
        if item in cfg["areas"]:
            out.append({"code": item, "level": "area", "name": cfg["areas"][item]["name"],
                        "provinces": list(cfg["areas"][item]["provinces"])})
        else:
            out.append({"code": item, "level": "provincia", "name": table[item]["name"], "provinces": [item]})
    region = table[province]["parent_code"]
    out.append({"code": region, "level": "regione", "name": table[region]["name"], "provinces": None})
    out.append({"code": "IT", "level": "italia", "name": "Italia", "provinces": None})
    return out
