# syntax=docker/dockerfile:1
# Faros: K nearest drivers by road. Multi-stage build:
#   build   — npm ci (with dev deps) + tsc → dist/
#   runtime — production deps only, dist/src, proto/, maps/ with their
#             compiled map cache warmed at build time; runs as user `node`.
#
#   docker build -t faros:0.1.0 .
#   docker run --rm -p 50051:50051 -p 8080:8080 faros:0.1.0            # every map of maps/maps.json
#   docker run --rm -p 50051:50051 -p 8080:8080 faros:0.1.0 serve --map monaco-car
ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------- build ----
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would run tsc before the sources are copied;
# tsc runs explicitly below (protobufjs' postinstall is only a CLI check).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY proto ./proto
COPY src ./src
# tsconfig also includes test/ and bench/, which are not in the context: only
# src/ is compiled, and only dist/src goes into the image.
RUN npx tsc -p tsconfig.json && test -f dist/src/bin/faros.js

# -------------------------------------------------------------- runtime ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    FAROS_CACHE_DIR=/var/cache/faros \
    FAROS_GRPC_PORT=50051 \
    FAROS_HTTP_PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force \
 && mkdir -p /var/cache/faros \
 && chown node:node /var/cache/faros
COPY proto ./proto
COPY maps ./maps
COPY --from=build /src/dist/src ./dist/src
USER node
# Compile every map of the catalog once, now, as the runtime user: the cache
# key is SHA-256(format version + profile + OSM file), so these files are hits
# for the same maps at run time and a start loads them in milliseconds.
# (A catalog naming other maps still works: they compile at start and are
# cached in FAROS_CACHE_DIR when it is writable.)
RUN node --input-type=module -e "import { loadCatalog } from './dist/src/mapbuild/catalog.js'; import { loadMap } from './dist/src/mapbuild/build.js'; const done = new Set(); for (const m of loadCatalog()) { const k = m.file + ' ' + m.profile; if (done.has(k)) continue; done.add(k); await loadMap(m.file, m.profile, { cacheDir: process.env.FAROS_CACHE_DIR, log: (s) => console.log(s) }); }" \
 && ls -l /var/cache/faros

EXPOSE 50051 8080
# Liveness only (the process answers HTTP); readiness is GET /readyz, used by
# docker-compose and Kubernetes. No curl in the slim image: Node's fetch.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.FAROS_HTTP_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/src/bin/faros.js"]
CMD ["serve"]
