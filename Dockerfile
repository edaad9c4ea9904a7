# syntax=docker/dockerfile:1
# Multi-stage: dependencies are installed in a build stage; the runtime stage has only what runs.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/app/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY drizzle ./drizzle
COPY locales ./locales
COPY assets ./assets
# The example WhatsApp template file (WHATSAPP_TEMPLATES may point at it or at your own).
COPY config ./config
COPY scripts/start.mjs ./scripts/start.mjs
# What `npm ci` does through `prepare` (skipped in the deps stage, which has no sources): the
# bundle of src/ and the new-database template, made once here instead of at every start.
RUN node scripts/start.mjs --prepare
RUN mkdir -p /app/data && chown -R node:node /app/data
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# As `npm start`: the bundle when it matches src/ (it does, it was built above), else tsx.
CMD ["node", "scripts/start.mjs"]
