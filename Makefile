# Portail Famille — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The pinned dependencies (`make lock` regenerates both from pyproject.toml): everything for
# development and CI, and the runtime subset (same versions) the container image installs.
LOCK := requirements.lock
RUNTIME_LOCK := requirements-runtime.lock
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | cksum | cut -d' ' -f1)
# What `make check` lints and formats; mypy's files are listed in pyproject.toml.
CHECKED := bot conversations storage tests bench
PO_FILES := $(wildcard locales/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)
PDF_FONT := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf

.PHONY: install fonts run test check lock i18n bench clean

## install: the PDF font, .venv with the project and its test tools, the compiled catalogs
install: fonts $(STAMP) $(MO_FILES)

## fonts: DejaVu Sans for the PDFs (letters, invoices), from Debian's fonts-dejavu-core, as root
fonts:
	@if [ ! -f $(PDF_FONT) ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt-get install -y -qq fonts-dejavu-core >/dev/null; \
		else \
			echo "The PDFs need the font DejaVu Sans: run  sudo apt-get install -y fonts-dejavu-core" >&2; \
		fi; \
	fi

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

locales/%/LC_MESSAGES/messages.mo: locales/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --domain messages --directory locales --locale $* --statistics

## run: install, migrate (the release step `db upgrade`), load the demo when the database is empty, start the bot
run: install
	$(BIN)/portail-famille db upgrade
	$(BIN)/portail-famille run

## test: install, `make check`, then the whole test suite
test: install check
	$(BIN)/pytest -q

## check: the format check and lint (ruff), then the type check (mypy)
check: $(STAMP)
	$(BIN)/ruff format --check $(CHECKED)
	$(BIN)/ruff check $(CHECKED)
	$(BIN)/mypy

## lock: pin every dependency of pyproject.toml, with hashes, after changing it
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra test --universal --python-version 3.11 \
		--generate-hashes --custom-compile-command 'make lock' --quiet --output-file $(LOCK)
	$(BIN)/uv pip compile pyproject.toml --constraints $(LOCK) --universal --python-version 3.11 \
		--generate-hashes --custom-compile-command 'make lock' --quiet --output-file $(RUNTIME_LOCK)

## i18n: extract the messages and update the catalogs (then translate and commit the .po files)
i18n: $(STAMP)
	$(BIN)/pybabel extract --mapping babel.cfg --keywords N_ --keywords ngettext:1,2 --no-location \
		--sort-output --project "Portail Famille" --output-file locales/messages.pot .
	$(BIN)/pybabel update --domain messages --input-file locales/messages.pot --output-dir locales --no-fuzzy-matching

## bench: run the benchmarks (they print figures)
bench: install
	for script in bench/[!_]*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) data .pytest_cache
