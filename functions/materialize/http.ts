// materialize-api: the routes of bulk uploads (bulk/routes.ts), frozen versions (versions/routes.ts) and the
// segmentation source and its refresh (segmentation/routes.ts), in one HTTP function.
import { httpHandler } from '../lib/http.ts';
import { routeTable } from '../lib/route.ts';
import { bulkRoutes } from './bulk/routes.ts';
import { segmentationRoutes } from './segmentation/routes.ts';
import { versionRoutes } from './versions/routes.ts';

export const materializeRoutes = [...bulkRoutes, ...versionRoutes, ...segmentationRoutes];

export const routes = routeTable(materializeRoutes);
export const handler = httpHandler(routes);
