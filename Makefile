.PHONY: serve test lint check

serve:  ## install and start the server on 127.0.0.1:8000 (SQLite in ./dynastore-data)
	python3 -m pip install --quiet -e . && dynastore serve

test:  ## install test dependencies, lint, type-check and run every test
	bash .ci/run

lint:
	python3 -m ruff check . && python3 -m ruff format --check .

check:
	python3 -m mypy --strict src
