# syntax=docker/dockerfile:1
# The SvelteKit server (adapter-node build behind frontend/server.js). Build context: the repository
# root
#   docker build -f deploy/web.Dockerfile -t tracker-web .

ARG NODE_IMAGE=node:20-slim

# ---- build: every dependency, then `vite build` into build/ --------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY frontend/package.json frontend/package-lock.json frontend/.npmrc ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY frontend/ ./
RUN npm run build

# ---- runtime dependencies only (http-proxy, openapi-fetch…): no dev tools in the final image -----
FROM ${NODE_IMAGE} AS deps
WORKDIR /src
COPY frontend/package.json frontend/package-lock.json frontend/.npmrc ./
# --ignore-scripts: `prepare` runs svelte-kit sync, a dev tool that is not installed here.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error

# ---- final ----------------------------------------------------------------------------------------
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/build ./build
COPY frontend/package.json frontend/server.js ./
# node:*-slim ships an unprivileged `node` user (uid 1000); the app never writes to its own files.
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/',{redirect:'manual'}).then(r=>process.exit(r.status<500?0:1),()=>process.exit(1))"]
CMD ["node", "server.js"]
