# syntax=docker/dockerfile:1
# Faros: K nearest drivers by road. Multi-stage build:
#   build   — npm ci (with dev deps) + tsc → dist/
#   runtime — production deps only, dist/src, proto/, maps/ with their
#             compiled map cache warmed at build time, the openssl CLI (for
#             `faros certs`); runs as user `node` (uid 1000).
#
# Ports: 50051 public gRPC, 8080 public HTTP/JSON (+ /metrics, /healthz,
# /readyz), 51051 peer gRPC (faros.v1.Peer, mutual TLS, instance-to-instance
# only: never publish it to clients). FAROS_HOST=0.0.0.0, so `faros serve`
# refuses to start without FAROS_TOKENS (a tokens file) or
# FAROS_ALLOW_ANONYMOUS=true.
#
#   docker build -t faros:0.1.0 .
#   # local trial, no tokens (ports bound to the host's loopback only):
#   docker run --rm -p 127.0.0.1:50051:50051 -p 127.0.0.1:8080:8080 -e FAROS_ALLOW_ANONYMOUS=true faros:0.1.0
#   docker run --rm -p 127.0.0.1:8080:8080 -e FAROS_ALLOW_ANONYMOUS=true faros:0.1.0 serve --map monaco-car
#   # with tokens: create the file (prints the token once; secrets/ writable by uid 1000) …
#   docker run --rm --user 1000 -v "$PWD/secrets:/secrets" faros:0.1.0 token create --file /secrets/tokens --name me --scopes update,query
#   # … and serve with it (clients send "authorization: Bearer <token>"; SIGHUP reloads the file):
#   docker run --rm -p 50051:50051 -p 8080:8080 -v "$PWD/secrets:/etc/faros/tokens:ro" -e FAROS_TOKENS=/etc/faros/tokens/tokens faros:0.1.0
#   # public TLS: add -v "$PWD/tls:/etc/faros/tls:ro" -e FAROS_TLS_CERT=/etc/faros/tls/tls.crt -e FAROS_TLS_KEY=/etc/faros/tls/tls.key
# A cluster also needs peer certificates (FAROS_PEER_TLS_DIR): see
# cluster/README.md and cluster/docker-compose.yml.
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
    FAROS_HOST=0.0.0.0 \
    FAROS_GRPC_PORT=50051 \
    FAROS_HTTP_PORT=8080 \
    FAROS_PEER_PORT=51051
# `faros certs` runs the openssl CLI, which the slim image lacks.
RUN apt-get update \
 && apt-get install -y --no-install-recommends openssl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force \
 && mkdir -p /var/cache/faros \
 && chown node:node /var/cache/faros
COPY proto ./proto
COPY maps ./maps
# The map page's HTML and JS (GET /).
COPY web ./web
COPY --from=build /src/dist/src ./dist/src
USER node
# Compile every map of the catalog once, now, as the runtime user: the cache
# key is SHA-256(format version + profile + OSM file), so these files are hits
# for the same maps at run time and a start loads them in milliseconds.
# (A catalog naming other maps still works: they compile at start and are
# cached in FAROS_CACHE_DIR when it is writable.)
RUN node --input-type=module -e "import { loadCatalog } from './dist/src/mapbuild/catalog.js'; import { loadMap } from './dist/src/mapbuild/build.js'; const done = new Set(); for (const m of loadCatalog()) { const k = m.file + ' ' + m.profile; if (done.has(k)) continue; done.add(k); await loadMap(m.file, m.profile, { cacheDir: process.env.FAROS_CACHE_DIR, log: (s) => console.log(s) }); }" \
 && ls -l /var/cache/faros

# 50051 gRPC and 8080 HTTP are the public ports; 51051 is the peer port
# (mutual TLS, other Faros instances only): never publish or route it to clients.
EXPOSE 50051 8080 51051
# Liveness only (the process answers HTTP); readiness is GET /readyz, used by
# docker-compose and Kubernetes. /healthz needs no token. HTTPS when
# FAROS_TLS_CERT is set (certificate not verified: this is loopback).
# No curl in the slim image: Node's http/https.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const e = process.env, h = !e.FAROS_HOST || e.FAROS_HOST === '0.0.0.0' || e.FAROS_HOST === '::' ? '127.0.0.1' : e.FAROS_HOST; require(e.FAROS_TLS_CERT ? 'node:https' : 'node:http').get({ host: h, port: e.FAROS_HTTP_PORT || 8080, path: '/healthz', rejectUnauthorized: false, timeout: 2500 }, (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1)).on('timeout', () => process.exit(1))"]
ENTRYPOINT ["node", "dist/src/bin/faros.js"]
CMD ["serve"]
