# syntax=docker/dockerfile:1
# Build stage: compile TypeScript.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies, compiled code, Lua scripts, locales, runbooks.
FROM node:20-bookworm-slim
# MALLOC_ARENA_MAX=1: one glibc malloc arena instead of one per thread (V8's and libuv's workers
# each grew their own, ~1-4 MB apiece); the same as package.json's `npm start`
ENV NODE_ENV=production MALLOC_ARENA_MAX=1
WORKDIR /app
# tools the shipped runbooks call (curl, ps, df, redis-cli, pg_isready); add your own
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl procps redis-tools postgresql-client ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY src/store/lua ./src/store/lua
COPY locales ./locales
COPY commands ./commands
COPY opsbot.example.yaml opsbot.schema.json runbook.schema.json ./
# `opsbot check`, `opsbot oncall`, ... inside the container; `opsbot run` is the bot itself
RUN chmod +x dist/src/cli.js && ln -s /app/dist/src/cli.js /usr/local/bin/opsbot
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--max-semi-space-size=2", "--max-old-space-size=192", "dist/src/cli.js", "run"]
