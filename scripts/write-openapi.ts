// npm run openapi: writes openapi/openapi.json from the code. A test fails when the committed
// file differs from what the code generates, so run this after changing a route or schema.
import { mkdirSync, writeFileSync } from 'node:fs';
import { generateOpenApiDocument } from '../src/openapi.js';

mkdirSync('openapi', { recursive: true });
writeFileSync('openapi/openapi.json', await generateOpenApiDocument());
process.stdout.write('wrote openapi/openapi.json\n');
