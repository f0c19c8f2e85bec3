# syntax=docker/dockerfile:1
# One image for every role: `api`, `worker --control`, `worker --module NAME`, `migrate`,
# `temporal setup`. The TypeScript sources run through bin/rpa (compiled per file as they load),
# exactly as in development; the workflow bundle and the native OCR binding are prebuilt so a
# worker starts in milliseconds instead of bundling itself, and nothing is compiled or downloaded
# when a container starts (the OCR model is an npm package, @tesseract.js-data/eng).

# Node 24 is the Active LTS line (Node 20 reached its end of life in April 2026; 22 ends in April
# 2027). Pinned to a patch release: rebuilds give the same runtime. package.json `engines` allows it.
ARG NODE_IMAGE=node:24.11.1-bookworm-slim

# --- all dependencies (dev included): the workflow bundle and the native OCR binding -------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# g++ and Debian's libtesseract headers for native/tesseract-binding.cc (OCR_ENGINE=native, ADR
# 0044); the official image ships Node's own headers in /usr/local/include/node.
RUN apt-get update && apt-get install -y --no-install-recommends g++ libtesseract-dev libleptonica-dev \
    && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build:workflows
# build-native-ocr.js exits 0 when it cannot build (tesseract.js stays usable); here it must build.
RUN node scripts/build-native-ocr.js && test -f native/build/tesseract-binding.node

# --- production dependencies only (tsx and the Temporal SDK are runtime dependencies) ---
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime ------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
WORKDIR /app
# poppler-utils: pdfinfo, pdftotext and pdftoppm for the ocr step on PDFs. libtesseract5: the
# shared library the native OCR binding links (the model itself comes from node_modules).
RUN apt-get update && apt-get install -y --no-install-recommends poppler-utils libtesseract5 \
    && rm -rf /var/lib/apt/lists/*
# Code and dependencies stay owned by root: the unprivileged process can read them, not change them.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY . .
COPY --from=build /app/dist/workflow-bundle.js ./dist/workflow-bundle.js
COPY --from=build /app/native/build ./native/build
# The OCR model is baked in, not fetched: fail the build if the package that carries it is missing.
RUN node -e "require('node:fs').accessSync(require('node:path').join(require('node:path').dirname(require.resolve('@tesseract.js-data/eng/package.json')), '4.0.0_best_int', 'eng.traineddata.gz'))"
# The shared document store (docker-compose volume `documents`): a new named volume takes this
# directory's owner, so the unprivileged process can write uploads to it.
RUN mkdir -p /data/documents && chown node:node /data/documents
# `node` (uid 1000) ships with the official image.
USER node
# deploy/docker-entrypoint.sh exports Compose secrets (/run/secrets/NAME) as variables, then execs
# node bin/rpa with the service's command.
ENTRYPOINT ["/bin/sh", "/app/deploy/docker-entrypoint.sh", "node", "bin/rpa"]
CMD ["--help"]
