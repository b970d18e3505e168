// Task work: annotations per task frame, task and audit status. (Its routes are served by annotation-api.)
import type { DefinedRoute } from '../lib/route.ts';

export const taskRoutes: DefinedRoute[] = [];
