# Two commands do everything: `make demo` and `make test`. Each builds .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# A GPU user installs their own torch build into .venv first (see README); it is kept.
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow bench sweep lint clean-venv

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[viewer,test,dev,ray]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/manifoldnet demo

test: $(STAMP)
	$(PY) -m pytest -q -n 2

test-slow: $(STAMP)
	$(PY) -m pytest -q -n 2 -m slow

bench: $(STAMP)
	for b in io geometry geodesics precompute fmap_faust segmentation_generated scale; do $(PY) benchmarks/$$b.py || exit 1; done

sweep: $(STAMP)
	$(PY) -m manifoldnet.robustness

lint: $(STAMP)
	$(VENV)/bin/ruff check manifoldnet viewer tests benchmarks examples

clean-venv:
	rm -rf $(VENV)
