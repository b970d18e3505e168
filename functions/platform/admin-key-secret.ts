// The first admin API key lives in a Secrets Manager secret as the key itself, so that one
// `aws secretsmanager get-secret-value` prints it. A deploy creates the secret holding SECRET_NOT_SET, and the
// bootstrap replaces that with the key it creates.
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { isApiKeyForm } from '../lib/auth.ts';
import { SECRET_NOT_SET, secrets } from '../lib/aws.ts';

/** The key the secret holds, or undefined while it holds SECRET_NOT_SET. */
export async function readAdminKey(secretId: string): Promise<string | undefined> {
  const value = (await secrets().send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString?.trim() ?? '';
  if (value === SECRET_NOT_SET) return undefined;
  if (!isApiKeyForm(value)) {
    throw new Error(`secret ${secretId} holds neither an admin API key nor '${SECRET_NOT_SET}' (put that text back to have a new key created)`);
  }
  return value;
}

export async function storeAdminKey(secretId: string, key: string): Promise<void> {
  await secrets().send(new PutSecretValueCommand({ SecretId: secretId, SecretString: key }));
}
