# Two commands on a fresh machine: `make book` and `make test` (see README.md).
SHELL  := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
JB     := $(VENV)/bin/jupyter-book
STAMP  := $(VENV)/.installed-stamp
HTML   := _build/html

# OpenBLAS picks its kernels for the CPU it runs on (Haswell, SkylakeX, Zen, ...), and kernels differ in the
# last bits of a sum; a training run amplifies those bits into the printed digits. The committed outputs were
# computed with the AVX2 (Haswell) kernels, which every x86-64 CPU of the last decade runs, so every target
# here uses them: nbval then compares like with like on any such machine. Outside make the choice is OpenBLAS's.
export OPENBLAS_CORETYPE ?= Haswell

.PHONY: venv book test unit nbval book-strict browser lab notebooks reproduce clean

# The virtual environment, (re)installed whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[book,test,fast]"
	touch $(STAMP)

venv: $(STAMP)

## make book: build the web book, executing notebooks through the cache (fast rebuilds).
book: $(STAMP)
	$(JB) build .
	@echo
	@echo "The book is ready: open $(CURDIR)/$(HTML)/index.html in a browser."

## make test: everything CI guards.
test: unit nbval book-strict browser
	@echo "make test: all checks passed"

unit: $(STAMP)
	$(PY) -m pytest tests -m "not browser" -p no:cacheprovider --durations=10

# Every notebook re-executed and compared cell by cell with its committed outputs.
# --durations=0 lists each cell's time; the per-notebook totals are summed at the end.
nbval: $(STAMP)
	@mkdir -p _build
	$(PY) -m pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
		-p no:cacheprovider --durations=0 notebooks | tee _build/nbval.log
	@$(PY) scripts/notebook_times.py _build/nbval.log

# Strict build (-W -n --keep-going) rendering the committed, nbval-verified outputs:
# the notebooks are not executed a second time.
book-strict: $(STAMP)
	@mkdir -p _build
	sed -E -e 's/^( *execute_notebooks:).*/\1 "off"/' -e 's#(chapter_numbers:) book/_ext#\1 $(CURDIR)/book/_ext#' \
		_config.yml > _build/_config.test.yml
	$(JB) build . --config _build/_config.test.yml -W -n --keep-going --all

# The built book in headless Chromium, offline: math typeset, images loaded, links resolve.
browser: $(STAMP)
	MLPHYS_BOOK_HTML=$(HTML) $(PY) -m pytest tests -m browser -p no:cacheprovider -v

## make lab: the notebooks in JupyterLab, for class.
lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

## make notebooks: re-execute and store every notebook's outputs and results/class tables (after changing a chapter).
## One notebook: make notebooks NB=notebooks/chapter05_vmc_rbm.ipynb
notebooks: $(STAMP)
	MLPHYS_RECORD_RESULTS=1 $(PY) scripts/run_notebooks.py $(NB)

reproduce: $(STAMP)
	$(PY) -m mlphys reproduce --scale class

clean:
	rm -rf _build
