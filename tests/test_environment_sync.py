"""environment.yml (conda) and pyproject.toml list the same dependencies."""
import re
import tomllib

import yaml

from conftest import ROOT


def norm(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_matches_pyproject():
    py = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    want = dict(norm(r) for r in py["dependencies"] + [r for extra in py["optional-dependencies"].values() for r in extra])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = [d for d in env["dependencies"] if isinstance(d, dict)][0]["pip"]
    assert pip[-1] == "-e ."
    got = dict(norm(d) for d in conda + pip[:-1] if norm(d)[0] not in ("python", "pip"))
    assert got == want
    assert dict([norm(d) for d in conda])["python"] == py["requires-python"]
