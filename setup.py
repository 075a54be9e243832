"""The build generates the `hookwire.v1` gRPC code, so `pip install .` and a wheel carry it.

The generated code is not checked in (`make proto` writes it into src/hookwire/v1 for
development), so a build from a clean checkout must make it: `build_py` runs grpc_tools'
protoc over protos/ into the build tree. The grpcio-tools that runs is pinned in
pyproject.toml's `[build-system] requires`, because the code it generates checks the
installed grpcio and protobuf against its own versions (the dependency floors follow it).
An editable install (`make install`) generates nothing here: `make proto` does that.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PROTOS = Path(__file__).resolve().parent / "protos"


def generate(target: Path) -> None:
    """protoc's Python messages and gRPC stubs for protos/hookwire/v1 into `target`."""
    from importlib.resources import files

    from grpc_tools import protoc

    sources = sorted(str(path) for path in (PROTOS / "hookwire" / "v1").glob("*.proto"))
    if not sources:
        raise SystemExit(f"no .proto files under {PROTOS}")
    target.mkdir(parents=True, exist_ok=True)
    arguments = [
        "protoc",
        f"-I{PROTOS}",
        f"-I{files('grpc_tools') / '_proto'}",  # the well-known types
        f"--python_out={target}",
        f"--grpc_python_out={target}",
        *sources,
    ]
    if protoc.main(arguments) != 0:
        raise SystemExit("protoc failed to generate hookwire.v1")
    (target / "hookwire" / "v1" / "__init__.py").touch()


class BuildPyWithProtos(build_py):
    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            generate(Path(self.build_lib))


setup(cmdclass={"build_py": BuildPyWithProtos})
