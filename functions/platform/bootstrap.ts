// platform-bootstrap (deploy): run by every deploy in AWS and at every start of the local cloud.
import { config } from '../lib/config.ts';
import { logger } from '../lib/logger.ts';
import { bootstrap, type Bootstrapped } from './bootstrap-run.ts';

export const handler = async (): Promise<Bootstrapped> => {
  const done = await bootstrap({ migrationsDir: config.migrationsDir(), adminKeySecretId: config.adminApiKeySecretId() });
  logger.info('bootstrapped', { ...done });
  return done;
};
