#!/usr/bin/env bash
# Installs the system tools the OCR step uses for PDFs: poppler-utils (pdfinfo, pdftotext,
# pdftoppm) from Debian. Everything else of OCR (tesseract.js, the eng data, sharp) is npm.
exec bash "$(dirname "${BASH_SOURCE[0]}")/install-apt-tools.sh" poppler-utils pdftoppm pdftotext pdfinfo
