# syntax=docker/dockerfile:1
# The images of docker-compose.yml. Each step is one CI also runs, so a green CI means these build:
#   - `npm ci` (dev/run.mjs installs with it) and `npm run build` (tsc over src/ into dist/, the workflow bundles, the dashboard);
#   - the `go install` of dev/cluster/build.ts (`npm run cluster -- --build-only`): the same module,
#     version and toolchain, which `npm run test:cluster` checks against build.ts.

ARG NODE_IMAGE=node:20-bookworm-slim

# With the dev dependencies: src/ compiled (and so type-checked) into dist/, the worker's workflow bundles
# (plain and with encoded failures) into dist/workflow-bundles/ and the job dashboard into dist/ui/. The app stage
# takes only dist/ from here.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The worker SDK is a dependency by path (file:packages/worker): npm ci links it and builds its dist/ (its prepare).
COPY packages/worker/package.json packages/worker/tsconfig.json packages/worker/tsconfig.build.json packages/worker/encoded-failures.cjs packages/worker/json-payloads.cjs ./packages/worker/
COPY packages/worker/src ./packages/worker/src
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY ui ./ui
COPY dev/project-root.ts dev/workflow-bundle.ts dev/build-workflow-bundles.ts dev/build-ui.ts ./dev/
RUN npm run build

# The API (the default command) and the worker (`node dist/worker/main.js`, which loads its workflow bundle from
# dist/workflow-bundles/, WORKFLOW_BUNDLE_DIR's default): production dependencies and the compiled code only.
FROM ${NODE_IMAGE} AS app
# partNodeFlags of dev/build.mjs, which `npm run <part>` passes; the glibc malloc settings are the worker's
# (workerMallocEnv of dev/build.mjs), set for both commands of the image.
ENV NODE_ENV=production NODE_OPTIONS=--max-semi-space-size=4 MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=65536
WORKDIR /app
COPY package.json package-lock.json ./
# The SDK as built in the build stage; no install scripts, since its prepare needs the TypeScript compiler of dev.
COPY --from=build /app/packages/worker/package.json /app/packages/worker/encoded-failures.cjs /app/packages/worker/json-payloads.cjs ./packages/worker/
COPY --from=build /app/packages/worker/dist ./packages/worker/dist
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY jobs ./jobs
USER node
EXPOSE 3000
CMD ["node", "dist/api/main.js"]

# temporal-sql-tool from the pinned Temporal server module (its schemas are embedded in it).
FROM golang:1.26 AS temporal-sql-tool
ENV GOTOOLCHAIN=go1.26.10 GOFLAGS=-mod=mod CGO_ENABLED=0
RUN go install go.temporal.io/server/cmd/tools/sql@v1.32.2

# One-shot: creates Temporal's databases and schemas, or brings them up to date (src/temporal/schema.ts).
FROM app AS temporal-schema
COPY --from=temporal-sql-tool /go/bin/sql /usr/local/bin/temporal-sql-tool
CMD ["node", "dist/temporal/setup-schema.js"]
