# Every target makes the virtual environment it needs: a fresh clone needs nothing installed by hand.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# The MIT-BIH copy beside the checkout, when there is one; otherwise heartzoo's own default
# ($HEARTZOO_DATA_DIR, then the per-user data folder, filled by `heartzoo data download`).
SHARED_DATA := $(wildcard $(abspath ../shared/data))
ifeq ($(HEARTZOO_DATA_DIR),)
ifneq ($(SHARED_DATA),)
export HEARTZOO_DATA_DIR := $(SHARED_DATA)
endif
endif

.PHONY: install test test-fast lint demo data bench clean chromium docs pages firmware-toolchain readme

# Bytecode is compiled once, here: where PYTHONDONTWRITEBYTECODE is set (as on this project's machines),
# every process would otherwise compile TensorFlow's and Keras' sources again, most of an import's time.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip uv
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -e '.[dev]'
	touch $@

install: $(VENV)/.installed

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The docs test drives Debian's Chromium; install it where we may (CI runs as root).
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); } || true

# The firmware kit's Cortex-M size check builds with arm-none-eabi-gcc (and newlib-nano); install it
# where we may (CI runs as root). Without it, that test skips and says why.
firmware-toolchain:
	@command -v arm-none-eabi-gcc >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc-arm-none-eabi \
		libnewlib-arm-none-eabi >/dev/null); } || true

# Two processes, one per core, each taking whole test files (module fixtures stay in one process); the
# small run and the prepared frames are made once and shared (tests/conftest.py). Plain `pytest` works too.
# The 15 slowest tests are listed at the end: `make test` must stay under 10 minutes on two cores.
test: lint chromium firmware-toolchain
	$(BIN)/pytest -n 2 --dist loadfile --durations=15

# The inner loop: everything but the tests marked slow (those that train, build the site, or took over
# 2 s here), on the real data all the same. `make test` before a commit.
test-fast: lint
	$(BIN)/pytest -n 2 --dist loadfile -m "not slow" --durations=10

# Fetch MIT-BIH and the NSTDB noise records unless the data folder has them already.
data: install
	@d=$$($(BIN)/python -c 'from heartzoo.paths import data_dir; print(data_dir())'); \
	test -f "$$d/mitdb/100.hea" || $(BIN)/heartzoo data download mitdb; \
	test -f "$$d/nstdb_noise/em.hea" || $(BIN)/heartzoo data download nstdb

# The main job: train the beat-3 model heartzoo recommends for a wearable (zoo/index.json's
# "recommended") from its own recipe, the published configuration.json (it distils from the published
# EfficientNetV2 teacher, fetched from the zoo), export it as int8 verified in TFLM into a local zoo
# under runs/ (the repository's zoo/ is left alone), print its DS2 metrics, and compare its .tflite with
# the published one byte for byte (`heartzoo zoo remade`: on another kind of processor the recipe trains
# another model, and it says so with both versions' numbers). Resumes if interrupted.
DEMO_REF ?= beat-3-cnn3-student@v6
DEMO_NAME := $(word 1,$(subst @, ,$(DEMO_REF)))
DEMO_PUBLISHED := zoo/beat-3/$(DEMO_NAME)/$(word 2,$(subst @, ,$(DEMO_REF)))
DEMO_RUN := runs/demo/$(subst @,-,$(DEMO_REF))
demo: data
	@echo "make demo: training $(DEMO_REF), the recommended beat-3 model, from $(DEMO_PUBLISHED)/configuration.json"
	$(BIN)/heartzoo data stats --task beat-3
	@# the recipe distils from a published teacher (NAME@vN): the demo's zoo starts with it, where train looks
	$(BIN)/heartzoo zoo mirror runs/demo/zoo --model $$($(BIN)/python -c "import json; print(json.load(open('$(DEMO_PUBLISHED)/configuration.json'))['config']['compress']['distill']['teacher'])")
	$(BIN)/heartzoo train $(DEMO_PUBLISHED)/configuration.json --run-dir $(DEMO_RUN) --zoo runs/demo/zoo
	@made=$$(ls -d runs/demo/zoo/beat-3/$(DEMO_NAME)/v* | sort -V | tail -1); \
	$(BIN)/heartzoo evaluate $$made --split ds2 --output $(DEMO_RUN)/evaluation-ds2.json && \
	$(BIN)/heartzoo zoo remade $$made $(DEMO_REF)

bench: install
	$(BIN)/python benchmarks/bench_prepare.py
	$(BIN)/python benchmarks/bench_train_epoch.py

docs: install
	$(BIN)/heartzoo docs build --zoo zoo --site-dir site

# What the project's GitHub Pages serves: the docs at /, the zoo mirrored at /zoo/ (heartzoo's default
# download URL, heartzoo.zoo.index.DEFAULT_ZOO_URL). Deploying site/ is a release step outside CI.
pages: docs
	$(BIN)/heartzoo zoo mirror site/zoo --zoo zoo

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# The README's table of recommended models, from the zoo and results/external.jsonl
readme: install
	$(BIN)/python -c "from pathlib import Path; from heartzoo.site.build import write_readme_table; \
	print('README.md', 'rewritten' if write_readme_table(Path('README.md'), Path('zoo'), Path('results')) else 'up to date')"
