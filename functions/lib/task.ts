// The stack for Step Functions Task functions: the input is validated, errors propagate to the state
// machine's Retry/Catch with their name as the error code. Every task passes a fault point before and after its
// side effects (off unless FRAMEWISE_FAULT_POINT names it).
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { parse } from './validate.ts';
import { faultPoint } from './fault.ts';
import { logger } from './logger.ts';

export function taskHandler<S extends z.ZodType, R>(schema: S, run: (input: z.output<S>, context: Context) => Promise<R>) {
  return middy<unknown, R, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) => {
      const input = parse(schema, event);
      faultPoint(context.functionName, 'before');
      const result = await run(input, context);
      faultPoint(context.functionName, 'after');
      return result;
    });
}
