// Training datasets built from annotated tasks. (Its routes are served by annotation-api.)
import type { DefinedRoute } from '../lib/route.ts';

export const datasetRoutes: DefinedRoute[] = [];
