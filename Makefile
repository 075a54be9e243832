# Everything a fresh machine needs: `make run` and `make test` set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
INSTALLED := $(VENV)/.installed
PROTOS := $(wildcard protos/hookwire/v1/*.proto)
GENERATED := src/hookwire/v1/.generated
BUF := node_modules/.bin/buf
BUF_VERSION := 1.75.0

.PHONY: install proto run test chaos lint bench bench-quick clean

install: $(INSTALLED) $(GENERATED)

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

proto: $(GENERATED)

# Generated into a scratch tree and swapped in, so a running process never sees half a package.
$(GENERATED): $(PROTOS) $(INSTALLED)
	rm -rf build/proto && mkdir -p build/proto/hookwire/v1
	PATH="$(CURDIR)/$(BIN):$$PATH" $(PY) -m grpc_tools.protoc -Iprotos \
		--python_out=build/proto --grpc_python_out=build/proto \
		--mypy_out=build/proto --mypy_grpc_out=build/proto $(PROTOS)
	touch build/proto/hookwire/v1/__init__.py build/proto/hookwire/v1/py.typed
	rm -rf src/hookwire/v1 && mv build/proto/hookwire/v1 src/hookwire/v1
	touch $@

run: install
	$(BIN)/hookwire serve

test: install
	$(BIN)/pytest -q

# The crash test of `make test` with hundreds of kill cycles; HOOKWIRE_CHAOS_SEED=<printed seed>
# replays a run's choices (what is killed, after how many acknowledgements).
CHAOS_CYCLES ?= 300
chaos: install
	HOOKWIRE_CHAOS_CYCLES=$(CHAOS_CYCLES) $(BIN)/pytest -q -s -p no:randomly -p no:cacheprovider \
		tests/e2e/test_crash.py

lint: install $(BUF)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src tests
	$(BUF) lint protos

$(BUF):
	npm install --no-save --no-audit --no-fund --silent @bufbuild/buf@$(BUF_VERSION)

bench: install
	$(PY) bench/run.py

bench-quick: install
	$(PY) bench/run.py --quick

clean:
	rm -rf $(VENV) src/hookwire/v1 build node_modules .mypy_cache .ruff_cache .pytest_cache *.db *.db-wal *.db-shm
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
