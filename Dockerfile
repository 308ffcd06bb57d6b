# syntax=docker/dockerfile:1
#
# One image for every Portico service and for the migrations.
#
#   docker build -t portico:0.1.0 .
#   docker run --rm portico:0.1.0                      # gateway (the default SERVICE)
#   docker run --rm -e PORTICO_SERVICE=identity portico:0.1.0
#   docker run --rm portico:0.1.0 node dist/apps/access/src/main.js   # explicit command
#   docker run --rm portico:0.1.0 node dist/tools/migrate.js      # migrations
#
# The Helm chart (deploy/helm/portico) always passes the explicit command.
# See docs/deploy.md for building, pushing and multi-arch builds.

ARG NODE_IMAGE=node:20-bookworm
ARG NODE_RUNTIME_IMAGE=node:20-bookworm-slim

# ---- build: all dependencies, compile, then drop the dev dependencies --------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY . .
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: slim Debian, tini as PID 1, non-root, production deps only -----
FROM ${NODE_RUNTIME_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production
WORKDIR /app
# Files stay owned by root and read-only for the service user: the container
# runs with a read-only root file system anyway (only /tmp is writable, as an
# emptyDir in Kubernetes).
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist

# Which service `docker run IMAGE` starts without a command: gateway, identity,
# access or notifications. Build-time default, runtime override by env.
ARG SERVICE=gateway
ENV PORTICO_SERVICE=${SERVICE}

# The "node" user of the official image, by number so that Kubernetes can
# check runAsNonRoot.
USER 1000:1000
EXPOSE 3000 8081 9464

# tini forwards SIGTERM to node (which drains, see SHUTDOWN_GRACE_MS) and
# reaps zombies. `exec` makes node replace the shell, so it gets the signal.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["/bin/sh", "-c", "exec node dist/apps/${PORTICO_SERVICE}/src/main.js"]
