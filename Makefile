# Two commands do everything: `make report` and `make test`. Both create .venv when it is missing or when
# pyproject.toml changed. Options: make report QUARTER=2026Q3 DATA=path/to/folder OUT=path/to/reports
# ENCODING=gb18030 LANG=zh [FORCE=1] (the report goes to OUT/<quarter>, default reports/<study>/<quarter>);
# make explore [DATA=path/to/folder] [PORT=8866] [LANG=zh] serves the interactive explorers on 127.0.0.1 (token in the
# printed address).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.sqm-installed
QUARTER ?=
DATA ?=
OUT ?=
ENCODING ?=
FORCE ?=
PYTEST_ARGS ?=

.PHONY: report weekly test lab explore training synth bench messages clean-venv

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" >/dev/null
	@touch $(STAMP)

report: $(STAMP)
	$(BIN)/sqm report $(if $(QUARTER),--quarter $(QUARTER)) $(if $(DATA),--data $(DATA)) $(if $(OUT),--out $(OUT)) $(if $(ENCODING),--encoding $(ENCODING)) $(if $(FORCE),--force) $(if $(ENGINE),--engine $(ENGINE)) $(if $(filter en zh,$(LANG)),--lang $(LANG))

# the weekly improvement report of WEEK (2026-W39; default the last complete week of the feedback)
weekly: $(STAMP)
	$(BIN)/sqm report --period week $(if $(WEEK),--week $(WEEK)) $(if $(DATA),--data $(DATA)) $(if $(OUT),--out $(OUT)) $(if $(ENCODING),--encoding $(ENCODING)) $(if $(FORCE),--force) $(if $(filter en zh,$(LANG)),--lang $(LANG))

# the whole suite on both cores (each test file on one worker, so module fixtures are built once), with the
# ten slowest tests listed at the end. One thread per worker for OpenMP/BLAS: two workers already fill the two
# cores, and scikit-learn's OpenMP threads spinning against the other worker made some tests 10-30x slower.
# Two tiers: `make test` runs everything but the long tier (tests marked `long`: Spark, every survey shape
# through the command line, the explorer under load); with CI=true (.ci/run) or TIER=all it runs both.
# Report builds in tests run their notebooks in one kernel (SQM_JOBS=1): the two workers already fill the cores,
# and a second kernel would only add its start-up (the shared test report is built with two, on purpose).
TEST_THREADS := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 SQM_JOBS=1
TIER ?= $(if $(filter true,$(CI)),all,fast)
test: $(STAMP)
	$(TEST_THREADS) $(BIN)/python -m pytest -n 2 --dist loadfile --durations=10 $(if $(filter all,$(TIER)),,-m "not long") $(PYTEST_ARGS)

# the explorers as a local web app on http://127.0.0.1:$(PORT)/?token=… (bundled data, or DATA=folder)
PORT ?= 8866
explore: $(STAMP)
	$(BIN)/sqm explore $(if $(DATA),--data $(DATA)) --port $(PORT) $(if $(filter en zh,$(LANG)),--lang $(LANG))

# every training notebook in English and Chinese, trainee and instructor versions, into reports/training/rendered
# (FORCE=1 replaces an earlier rendering)
training: $(STAMP)
	$(BIN)/sqm training --out reports/training/rendered $(if $(FORCE),--force)

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks

synth: $(STAMP)
	$(BIN)/sqm synth --out data/sample --force

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_io.py
	$(BIN)/python benchmarks/bench_reliability.py
	$(BIN)/python benchmarks/bench_gaps.py
	$(BIN)/python benchmarks/bench_drivers.py
	$(BIN)/python benchmarks/bench_churn.py
	$(BIN)/python benchmarks/bench_explore.py
	$(BIN)/python benchmarks/bench_serve.py
	$(BIN)/python benchmarks/bench_sem.py
	$(BIN)/python benchmarks/bench_mystery.py
	$(BIN)/python benchmarks/bench_pdca.py
	$(BIN)/python benchmarks/bench_psychometrics.py
	$(BIN)/python benchmarks/bench_report.py

# the message catalogues brought up to the code: new messages added untranslated to sqmlib/locale/<lang>/LC_MESSAGES/sqm.po,
# changed ones marked fuzzy, unused ones dropped; then each compiled to sqm.mo (tests/test_messages.py checks both)
messages: $(STAMP)
	$(BIN)/python -c "from sqmlib.render.messages import update_catalogues; update_catalogues()"

clean-venv:
	rm -rf $(VENV)
