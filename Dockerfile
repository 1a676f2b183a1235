# syntax=docker/dockerfile:1
# The images of docker-compose.yml. Each step is one CI also runs, so a green CI means these build:
#   - `npm ci` (scripts/run.mjs installs with it) and `tsc --noEmit` (the first step of `npm test`);
#   - the `go install` of src/temporal/cluster/build.ts (`npm run cluster -- --build-only`): the same module,
#     version and toolchain, which `npm run test:cluster` checks against build.ts.

ARG NODE_IMAGE=node:20-bookworm-slim

# All dependencies and the type check; the app stage copies its sources from here, so it cannot skip the check.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY scripts/build.mjs ./scripts/
RUN npx tsc --noEmit -p . && node scripts/build.mjs

# The API (the default command) and the worker (`node .cache/build/src/worker/main.js`), compiled as `npm run api`
# runs them. The worker also needs src/: it bundles the workflow code from it.
FROM ${NODE_IMAGE} AS app
# partNodeFlags of scripts/build.mjs, which `npm run <part>` passes.
ENV NODE_ENV=production NODE_OPTIONS=--max-semi-space-size=4
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/src ./src
COPY --from=build /app/.cache/build ./.cache/build
COPY jobs ./jobs
# The worker writes its workflow bundle here on first start (src/worker/workers.ts), as the user it runs as.
RUN mkdir -p .cache/workflow-bundles && chown node:node .cache/workflow-bundles
USER node
EXPOSE 3000
CMD ["node", ".cache/build/src/api/main.js"]

# temporal-sql-tool from the pinned Temporal server module (its schemas are embedded in it).
FROM golang:1.26 AS temporal-sql-tool
ENV GOTOOLCHAIN=go1.26.10 GOFLAGS=-mod=mod CGO_ENABLED=0
RUN go install go.temporal.io/server/cmd/tools/sql@v1.32.2

# One-shot: creates Temporal's databases and schemas, or brings them up to date (src/temporal/cluster/schema.ts).
FROM app AS temporal-schema
COPY --from=temporal-sql-tool /go/bin/sql /usr/local/bin/temporal-sql-tool
CMD ["node", ".cache/build/src/temporal/cluster/setup-schema.js"]
