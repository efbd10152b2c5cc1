# The Mailroom image used by docker-compose.yml (api, worker, migrate, setup).
# Build stage: install everything (TypeScript is a dev dependency), compile to
# dist/, then drop the dev dependencies. Run stage: what `node bin/mailroom.js`
# needs and nothing else, as the unprivileged `node` user.
FROM node:20.19-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# package.json points a dev dependency at this folder (a stub, see its index.js).
COPY scripts/stubs ./scripts/stubs
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20.19-bookworm-slim
# MALLOC_ARENA_MAX: glibc gives each thread that allocates its own malloc arena;
# with the parse thread and Node's helper threads that cost a worker 20-50 MB of
# peak RSS and ~10 % more CPU per mail. MALLOC_MMAP_THRESHOLD_: every allocation
# over 128 KiB (raw mail, attachment bytes) gets pages of its own, given back
# when it is freed; glibc's sliding threshold otherwise serves them from the heap,
# which a long backlog leaves fragmented: ~25 MB lower peak RSS, the same CPU
# (docs/operations.md, "Memory").
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072 \
    MAILROOM_STORAGE_URL=file:///data/blobs
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
COPY --from=build /app/prisma ./prisma
# A named volume mounted here starts with this owner, so the node user can write blobs.
RUN mkdir -p /data/blobs && chown -R node:node /data
USER node
EXPOSE 3000
# --max-semi-space-size=4: V8's young generation at 4 MB semi-spaces instead of
# 16, in every thread (V8 flags are process-wide: the parse threads too). A
# worker's peak RSS under a backlog ~40-65 MB lower, CPU per mail the same
# within the bench's noise (docs/operations.md, "Memory"). V8 reads it only at
# process start.
ENTRYPOINT ["node", "--max-semi-space-size=4", "bin/mailroom.js"]
CMD ["start"]
