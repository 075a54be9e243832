"""The gateway talks to the broker only through `hookwire.v1`: no import back-edge."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def imported_modules(package: str) -> set[tuple[str, str]]:
    found = set()
    for path in (SRC / package).rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update((str(path), alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((str(path), node.module))
    return found


def test_the_walker_sees_imports() -> None:
    assert any(module.startswith("hookwire.v1") for _, module in imported_modules("gateway"))
    assert any(module.startswith("broker.") for _, module in imported_modules("broker"))


def test_gateway_never_imports_broker() -> None:
    offending = [
        (path, module)
        for path, module in imported_modules("gateway")
        if module == "broker" or module.startswith("broker.")
    ]
    assert offending == []


def test_broker_never_imports_gateway() -> None:
    offending = [
        (path, module)
        for path, module in imported_modules("broker")
        if module == "gateway" or module.startswith("gateway.")
    ]
    assert offending == []


def test_broker_makes_no_http_calls() -> None:
    http_clients = {"httpx", "aiohttp", "requests", "urllib.request", "http.client"}
    offending = [
        (path, module)
        for path, module in imported_modules("broker")
        if module.split(".")[0] in http_clients or module in http_clients
    ]
    assert offending == []
