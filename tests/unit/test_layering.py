"""The architecture, checked: which part may import which.

- the gateway talks to the broker only through `hookwire.v1` (it never imports `broker`),
  and the broker never imports the gateway nor an HTTP client;
- in the broker, only the gRPC edge (`broker.grpc`) imports `hookwire.v1`;
- storage imports only the domain (and its own modules);
- the client commands of `hookwire` import nothing of the server.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
EDGE = "broker.grpc"
# What storage may know of the broker: its records and the pattern rules they are
# matched with (both pure, no I/O).
DOMAIN = ("broker.domain", "broker.patterns")
# The `hookwire` modules that run the server; every other one is a client command.
SERVER_COMMANDS = ("hookwire.serve", "hookwire.listen", "hookwire.key_commands")


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(package: str) -> dict[str, set[str]]:
    """For every module of `package` (generated code excluded): the absolute modules it
    imports, wherever in the module the import stands (functions included)."""
    found: dict[str, set[str]] = {}
    for path in (SRC / package.replace(".", "/")).rglob("*.py"):
        name = module_name(path)
        if name.startswith("hookwire.v1"):
            continue
        modules = found.setdefault(name, set())
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.add(node.module)
                modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def within(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def offending(package: str, forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()) -> list[str]:
    return sorted(
        f"{importer} imports {module}"
        for importer, modules in imports(package).items()
        if not within(importer, *allowed)
        for module in modules
        if within(module, *forbidden)
    )


def test_the_walker_sees_imports_at_every_level() -> None:
    found = imports("broker")
    assert "hookwire.v1" in found["broker.grpc.events"]
    assert "broker.domain" in found["broker.storage.plans"]
    assert any(within(m, "broker") for m in imports("hookwire")["hookwire.serve"])


def test_gateway_never_imports_broker() -> None:
    assert offending("gateway", ("broker",)) == []


def test_broker_never_imports_gateway() -> None:
    assert offending("broker", ("gateway",)) == []


def test_broker_makes_no_http_calls() -> None:
    http_clients = ("httpx", "aiohttp", "requests", "urllib.request", "http.client")
    assert offending("broker", http_clients) == []


def test_only_the_grpc_edge_imports_the_contract() -> None:
    assert offending("broker", ("hookwire.v1",), allowed=(EDGE,)) == []


def test_nothing_behind_the_edge_imports_the_edge() -> None:
    assert offending("broker", (EDGE,), allowed=(EDGE, "broker.server")) == []


def test_storage_imports_only_the_domain() -> None:
    storage_deps = {
        module
        for modules in imports("broker.storage").values()
        for module in modules
        if within(module, "broker")
    }
    assert storage_deps, "the walker found no broker imports in storage"
    assert sorted(m for m in storage_deps if not within(m, "broker.storage", *DOMAIN)) == []


def test_client_commands_import_nothing_of_the_server() -> None:
    found = [
        f"{importer} imports {module}"
        for importer, modules in imports("hookwire").items()
        if not within(importer, *SERVER_COMMANDS) and importer != "hookwire.cli"
        for module in modules
        if within(module, "broker", "gateway")
    ]
    assert found == []
