"""environment.yml (conda) and pyproject.toml (pip) must list the same packages."""

import re
import tomllib

import yaml

# conda-forge spellings of PyPI packages; Quarto exists only on the conda side.
CONDA_TO_PYPI = {"snakemake-minimal": "snakemake", "matplotlib-base": "matplotlib", "seaborn-base": "seaborn"}
CONDA_ONLY = {"python", "pip", "quarto"}


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_matches_pyproject(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    pypi = {_name(s) for s in project["dependencies"]}
    pypi |= {_name(s) for s in project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((root / "environment.yml").read_text())
    conda, pip = set(), set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip |= {_name(s) for s in dep["pip"]}
        else:
            conda.add(CONDA_TO_PYPI.get(_name(dep), _name(dep)))
    assert "quarto" in conda
    assert (conda - CONDA_ONLY) | pip == pypi
    assert not (conda & pip), "a package is listed twice"


def test_lock_pins_every_dependency(root):
    lock = (root / "requirements.lock").read_text()
    pinned = {m.group(1).lower() for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==", lock, re.M)}
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    wanted = {_name(s) for s in project["dependencies"]}
    wanted |= {_name(s) for s in project["optional-dependencies"]["dev"]}
    assert wanted <= {p.replace("_", "-") for p in pinned}
    assert "--hash=sha256:" in lock
