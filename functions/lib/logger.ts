import { Logger } from '@aws-lambda-powertools/logger';

/** Structured JSON logs; handlers append the job / video / request id as persistent keys. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'framewise' });
