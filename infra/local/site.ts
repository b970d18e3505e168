// The web console on the local cloud: the site's folder and its vendor files, served by the API server at `/`, as
// CloudFront serves them from S3 in AWS (the same paths, the same Content-Security-Policy).
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { siteContentSecurityPolicy, type SiteDef } from '../topology.ts';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};

export const contentTypeOfSiteFile = (path: string): string => CONTENT_TYPES[extname(path)] ?? 'application/octet-stream';

export interface SiteFile {
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

/**
 * The file at the URL path `pathname`, or undefined: `/` is index.html, `/vendor/{package}/{file}` a listed file of
 * an npm package, anything else a file of the site's folder (never outside it).
 */
export async function siteFile(root: string, site: SiteDef, pathname: string, objectOrigin: string): Promise<SiteFile | undefined> {
  let path: string | undefined;
  const vendor = /^\/vendor\/((?:@[^/]+\/)?[^/]+)\/(.+)$/.exec(pathname);
  if (vendor) {
    const pkg = site.vendor.find((v) => v.package === vendor[1] && v.files.includes(vendor[2]!));
    if (pkg) path = join(root, 'node_modules', pkg.package, vendor[2]!);
  } else {
    const relative = normalize(decodeURIComponent(pathname === '/' ? '/index.html' : pathname)).replace(/^[/\\]+/, '');
    const folder = join(root, site.folder);
    const candidate = join(folder, relative);
    if (candidate.startsWith(folder + sep) && !relative.split(sep).some((p) => p.startsWith('.'))) path = candidate;
  }
  if (!path || !(await stat(path).catch(() => undefined))?.isFile()) return undefined;
  const html = path.endsWith('.html');
  return {
    body: await readFile(path),
    headers: {
      'content-type': contentTypeOfSiteFile(path),
      // pages always revalidate, so a new deploy is seen at once; the rest may be cached for a short while
      'cache-control': html ? 'no-cache' : 'public, max-age=300',
      'x-content-type-options': 'nosniff',
      ...(html && { 'content-security-policy': siteContentSecurityPolicy(objectOrigin), 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' }),
    },
  };
}
