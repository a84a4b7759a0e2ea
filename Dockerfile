# inference-gateway (igw) image: `docker build -t inference-gateway:0.1.0 .`
# Stage 1 installs every dependency and compiles TypeScript; stage 2 keeps only the production
# dependencies and dist/, and runs as the unprivileged `node` user (uid 1000, as the Helm chart's
# securityContext expects). Both stages use the same Debian (bookworm) so that prebuilt native
# modules (@resvg/resvg-js for the benchmark charts) match the runtime's libc.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: `prepare` (the build) needs the sources, copied below.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root examples ./examples
COPY --chown=root:root deploy/crds ./deploy/crds
USER node
# igw serve: 8081 (the seed Gateway's listener); igw epp: 9002 ext_proc, 9003 gRPC health, 9090 metrics.
EXPOSE 8081 9002 9003 9090
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
CMD ["--help"]
