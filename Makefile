# Two commands on a fresh machine: `make book` and `make test` (see README.md).
SHELL  := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
JB     := $(VENV)/bin/jupyter-book
STAMP  := $(VENV)/.installed-stamp
HTML   := _build/html

# One "CPU personality" for every target, so that a printed digit does not depend on the machine. Three libraries
# pick code for the CPU they run on, and their choices differ in the last bits of a result, which a training run can
# carry into a printed digit:
#   - OpenBLAS's kernels (Haswell, SkylakeX, Zen, ...): pinned to the AVX2 (Haswell) ones;
#   - NumPy's SIMD loops (exp, log, tanh, sums, ... in AVX-512 or AVX2): AVX-512 switched off (the feature names are
#     NumPy >= 2.4's; a name the CPU lacks is ignored);
#   - numba's code generation for the compiled network step: compiled for a Haswell (AVX2 + FMA) CPU.
# AVX2 is what every x86-64 CPU of the last decade runs; the committed outputs were computed this way, and
# scripts/portability.py checks that no printed number moves under another personality. Outside make the
# libraries choose for themselves, and a trained number may differ in its last printed digit.
export OPENBLAS_CORETYPE ?= Haswell
export NPY_DISABLE_CPU_FEATURES ?= X86_V4 AVX512_ICL AVX512_SPR
export NUMBA_CPU_NAME ?= haswell
export NUMBA_CPU_FEATURES ?= +avx2,+fma

.PHONY: venv book test unit nbval portability book-strict browser lab notebooks reproduce costa-protocol \
	costa-protocol-report clean

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

## make portability: nbval under other CPU personalities; lists every cell whose output depends on the CPU.
portability: $(STAMP)
	$(PY) scripts/portability.py $(NB)

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

## make costa-protocol ARCH=avg-60 HOURS=2: Costa et al.'s training protocol as written, resumed from its committed
## state (results/paper/costa-protocol/); make costa-protocol-report ARCH=avg-60 evaluates what has run so far.
ARCH  ?= avg-60
HOURS ?= 2
costa-protocol: $(STAMP)
	OPENBLAS_NUM_THREADS=1 nice -n 10 $(PY) scripts/costa_protocol.py train --arch $(ARCH) --hours $(HOURS)

costa-protocol-report: $(STAMP)
	OPENBLAS_NUM_THREADS=1 $(PY) scripts/costa_protocol.py report --arch $(ARCH)

clean:
	rm -rf _build
