# The LMS server for docker-compose.yml. Runs TypeScript directly with tsx, as `npm start` does.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY prisma.config.ts tsconfig.json ./
RUN npm ci --no-audit --no-fund
COPY src ./src
COPY openapi ./openapi
ENV PORT=3000 HOST=0.0.0.0
EXPOSE 3000
USER node
CMD ["node_modules/.bin/tsx", "src/server.ts"]
