# The course's two commands (see README.md):
#   make lab    set everything up, then start JupyterLab on the course
#   make test   set everything up, then run every test
# Both are idempotent: a second run only does what changed.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .make
PROFILE ?= quick
DEVICE ?= cpu
LAB_PORT ?= 8888
PYTEST_ARGS ?=
PYTEST_WORKERS ?= 2

SOLUTIONS := $(wildcard solutions/*/*.ipynb)
RELEASED := $(patsubst solutions/%,notebooks/%,$(SOLUTIONS))

.PHONY: env data notebooks lab test test-fast references samples base-models vis-model clean help

help:
	@echo "make lab        set up and start JupyterLab (student notebooks in notebooks/)"
	@echo "make test       set up and run every test"
	@echo "make notebooks  regenerate the student notebooks from solutions/"
	@echo "make samples    rebuild the sample submissions in autograder/samples/"
	@echo "make references PROFILE=full [DEVICE=gpu]   rebuild reference results (autograder/references/)"
	@echo "make base-models  rebuild the reference base models of 08_transfer_learning (data/models/)"
	@echo "make vis-model    rebuild the reference ConvNet of 10_visualizing_convnets (data/models/10_visualizing_convnets/)"

env: $(STAMPS)/env

$(STAMPS)/env: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  echo "Could not create a virtual environment: on Debian/Ubuntu run 'apt-get install python3-venv'."; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@mkdir -p $(STAMPS) && touch $@

# Fashion-MNIST: the course cache, else Debian's dataset-fashion-mnist (installed here when we are
# root with apt), else the Keras download. `course data fetch` verifies the SHA-256 checksums.
data: env
	@$(BIN)/course data where >/dev/null 2>&1 || bash data/install_debian_dataset.sh
	@$(BIN)/course data fetch

notebooks: env $(RELEASED)

notebooks/%.ipynb: solutions/%.ipynb | env
	$(BIN)/course release $(firstword $(subst /, ,$*))

# The environment's bin goes first on PATH: nbgrader's formgrader runs `alembic` from PATH when it
# creates the gradebook.
lab: env data notebooks
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --port=$(LAB_PORT) \
	  --LabApp.default_url=/lab/tree/notebooks/01_knn/01_knn.ipynb \
	  $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

test: env data
	bash tests/system_setup.sh
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=30 $(PYTEST_ARGS)

test-fast: env data
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

samples: env
	$(BIN)/python -m autograder.build_samples

# Build on a quiet machine: the builder waits for the load to fade and records it; the time tables
# (solutions' headers, README) are then regenerated from the new references. DEVICE=gpu records a GPU
# run beside the CPU reference (refused where TensorFlow sees no GPU).
references: env data
	$(BIN)/python -m autograder.build_references --profile $(PROFILE) --device $(DEVICE)
	$(BIN)/python -m autograder.time_tables

# The reference base models of 08_transfer_learning (data/models/*.keras + provenance.json; ~3-6 min on CPU).
base-models: env data
	$(BIN)/python -m autograder.build_base_models

# The reference ConvNet of 10_visualizing_convnets (data/models/10_visualizing_convnets/; ~3 min on CPU).
vis-model: env data
	$(BIN)/python -m autograder.build_vis_model

clean:
	rm -rf $(STAMPS) grading artifacts .pytest_cache
