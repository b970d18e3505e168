// The API reference page: Swagger UI (from the swagger-ui-dist package, shipped with the function, never a CDN)
// over this API's own OpenAPI document. The page and its two assets are served by docs-api, public, as the
// document is.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { config } from '../lib/config.ts';

/** The files of swagger-ui-dist the page loads, by the name the page asks for. */
const ASSETS = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
} as const;
export type ReferenceAsset = keyof typeof ASSETS;
export const REFERENCE_ASSETS = Object.keys(ASSETS) as ReferenceAsset[];

/** The package's version, in the assets' URLs: a new version is a new URL. */
const version = (): string => (JSON.parse(readFileSync(join(config.swaggerUiDistDir(), 'package.json'), 'utf8')) as { version: string }).version;

/**
 * The page: relative URLs, so that it works under any base path (`/v1/docs` → `/v1/docs/<asset>` and
 * `/v1/openapi.json`). Every operation is listed, its details one click away.
 */
export const referencePage = (): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Framewise API reference</title>
<link rel="stylesheet" href="docs/swagger-ui.css?v=${version()}">
</head>
<body>
<div id="reference"></div>
<script src="docs/swagger-ui-bundle.js?v=${version()}"></script>
<script>
window.ui = SwaggerUIBundle({ url: 'openapi.json', dom_id: '#reference', docExpansion: 'list', deepLinking: true, tryItOutEnabled: false });
</script>
</body>
</html>
`;

export interface Asset {
  readonly contentType: string;
  readonly body: Buffer;
  readonly gzip: Buffer;
}

const loaded = new Map<ReferenceAsset, Asset>();

/** An asset as the package ships it, and gzipped once per instance (the bundle is 1.4 MB, 0.4 MB gzipped). */
export function referenceAsset(name: ReferenceAsset): Asset {
  let asset = loaded.get(name);
  if (!asset) {
    const body = readFileSync(join(config.swaggerUiDistDir(), name));
    asset = { contentType: ASSETS[name], body, gzip: gzipSync(body) };
    loaded.set(name, asset);
  }
  return asset;
}
