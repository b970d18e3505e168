// The first admin API key lives in a Secrets Manager secret as the key itself, so that one
// `aws secretsmanager get-secret-value` prints it. A deploy creates the secret holding NO_ADMIN_KEY_YET (never a
// generated value, which would pass for a key), and the bootstrap replaces that with the key it creates.
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { isApiKeyForm } from '../lib/auth.ts';
import { secrets } from '../lib/aws.ts';

export const NO_ADMIN_KEY_YET = 'no admin API key yet: the bootstrap function creates it on the first deploy';

/** The key the secret holds, or undefined while it holds NO_ADMIN_KEY_YET. */
export async function readAdminKey(secretId: string): Promise<string | undefined> {
  const value = (await secrets().send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString?.trim() ?? '';
  if (value === NO_ADMIN_KEY_YET) return undefined;
  if (!isApiKeyForm(value)) {
    throw new Error(`secret ${secretId} holds neither an admin API key nor '${NO_ADMIN_KEY_YET}' (put that text back to have a new key created)`);
  }
  return value;
}

export async function storeAdminKey(secretId: string, key: string): Promise<void> {
  await secrets().send(new PutSecretValueCommand({ SecretId: secretId, SecretString: key }));
}
