# The console (console/dist) is built with the devDependencies in a stage of its own; the server
# image installs production dependencies only and takes the built files.
FROM node:20-slim AS console
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY scripts/build-console.ts ./scripts/
COPY src/project-root.ts ./src/
COPY console ./console
RUN npm ci

FROM node:20-slim
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev
COPY bin ./bin
COPY src ./src
COPY --from=console /app/console/dist ./console/dist
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
EXPOSE 8080
USER node
CMD ["node", "--max-semi-space-size=64", "--import", "tsx", "src/main.ts"]
