#!/usr/bin/env bash
# Installs the system tools the OCR step uses for PDFs: poppler-utils (pdfinfo, pdftotext,
# pdftoppm) from Debian. Everything else of OCR (tesseract.js, the eng data, sharp) is npm.
# Does nothing when the tools are already on PATH; needs root (or sudo) otherwise.
set -euo pipefail

if command -v pdftoppm >/dev/null && command -v pdftotext >/dev/null && command -v pdfinfo >/dev/null; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "install-ocr-deps: pdftoppm/pdftotext/pdfinfo missing; install poppler-utils with your package manager" >&2
  exit 1
fi
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq >/dev/null
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends poppler-utils >/dev/null
command -v pdftoppm >/dev/null
