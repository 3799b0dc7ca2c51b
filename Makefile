# Portail Famille — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PO_FILES := $(wildcard locales/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)
PDF_FONT := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf

.PHONY: install fonts run test i18n bench clean

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

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

locales/%/LC_MESSAGES/messages.mo: locales/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --domain messages --directory locales --locale $* --statistics

## run: install, migrate, load the demo when the database is empty, start the bot
run: install
	$(BIN)/portail-famille run

## test: install and run the whole test suite
test: install
	$(BIN)/pytest -q

## i18n: extract the messages and update the catalogs (then translate and commit the .po files)
i18n: $(STAMP)
	$(BIN)/pybabel extract --mapping babel.cfg --keywords N_ --keywords ngettext:1,2 --no-location \
		--sort-output --project "Portail Famille" --output-file locales/messages.pot .
	$(BIN)/pybabel update --domain messages --input-file locales/messages.pot --output-dir locales --no-fuzzy-matching

## bench: run the benchmarks (they print figures)
bench: install
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) data .pytest_cache
