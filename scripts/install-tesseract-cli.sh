#!/usr/bin/env bash
# Installs the native tesseract CLI (Debian tesseract-ocr) that `npm run bench:ocr` compares the
# project's tesseract.js pool against. Only the benchmark needs it: the OCR step itself never runs
# the CLI. The bench points it at the tesseract.js model with --tessdata-dir: no language package.
exec bash "$(dirname "${BASH_SOURCE[0]}")/install-apt-tools.sh" tesseract-ocr tesseract
