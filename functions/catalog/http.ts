// The catalog-api Lambda: API Gateway v2 routes → routes.ts (auth, roles and error shape in lib/http).
import { httpHandler } from '../lib/http.ts';
import { routes } from './routes.ts';

export { routes };
export const handler = httpHandler(routes);
