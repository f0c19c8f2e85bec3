# syntax=docker/dockerfile:1
# One image for every role: `api`, `worker --control`, `worker --module NAME`, `migrate`.
# The TypeScript sources run through bin/rpa (compiled per file as they load), exactly as in
# development; only the workflow bundle is prebuilt so a worker starts in milliseconds instead of
# bundling itself.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- all dependencies (dev included): enough to build the workflow bundle ---------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build:workflows

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
# poppler-utils: pdfinfo, pdftotext and pdftoppm for the ocr step on PDFs.
RUN apt-get update && apt-get install -y --no-install-recommends poppler-utils \
    && rm -rf /var/lib/apt/lists/*
# Code and dependencies stay owned by root: the unprivileged process can read them, not change them.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY . .
COPY --from=build /app/dist/workflow-bundle.js ./dist/workflow-bundle.js
# The shared document store (docker-compose volume `documents`): a new named volume takes this
# directory's owner, so the unprivileged process can write uploads to it.
RUN mkdir -p /data/documents && chown node:node /data/documents
# `node` (uid 1000) ships with the official image.
USER node
ENTRYPOINT ["node", "bin/rpa"]
CMD ["--help"]
