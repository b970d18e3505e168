// zod with `.openapi(...)` metadata: the schemas of routes import `z` from here, so that the OpenAPI document
// (lib/openapi.ts) can name and describe them.
import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

extendZodWithOpenApi(z);

export { z };
