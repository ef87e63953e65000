# paperd container image: build with the full toolchain, run on a slim image as a non-root user.
# Node 26: the Active LTS line (since October 2026).
FROM node:26-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY actors actors
COPY bench bench
COPY ops ops
RUN npm run build && npm prune --omit=dev

FROM node:26-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
COPY schemas schemas
COPY sql sql
COPY examples examples
# Local data of a run without DATABASE_URL (the embedded Postgres) or NATS: writable by the user.
RUN mkdir -p /app/data && chown node:node /app/data
ENV PAPERD_DATA_DIR=/app/data
VOLUME /app/data
USER node
EXPOSE 9464
# The port paperd serves: METRICS_PORT, else PORT (a platform's, e.g. Railway), else 9464.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s CMD node -e "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||process.env.PORT||9464)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["start", "--config", "examples/canonical.json"]
