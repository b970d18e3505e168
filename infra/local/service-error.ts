// A local service that could not start, said so that whoever started it (npm start, the demo, the tests) knows
// which one, why, and what to do about it.

export class LocalServiceError extends Error {
  constructor(
    readonly service: string,
    readonly reason: string,
    readonly remedy: string,
  ) {
    super(`${service} could not start: ${reason}\nWhat to do: ${remedy}`);
    this.name = 'LocalServiceError';
  }
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : err === undefined ? 'it stopped without saying why' : String(err));
const codeOf = (err: unknown): string | undefined => (err as { code?: unknown } | undefined)?.code as string | undefined;

/**
 * The error a service's start failed with, as a LocalServiceError: kept as it is when it is one already, else
 * with a remedy chosen from its cause (a taken port, a folder it may not read or write, anything else).
 */
export function serviceStartError(service: string, dataDir: string, err: unknown): LocalServiceError {
  if (err instanceof LocalServiceError) return err;
  const reason = messageOf(err);
  const code = codeOf(err);
  if (code === 'EADDRINUSE' || /address already in use/i.test(reason)) {
    return new LocalServiceError(service, reason, 'another process took its port: stop that process, or start again (ports are chosen free at each start).');
  }
  if (code === 'EACCES' || code === 'EPERM' || /permission denied|operation not permitted/i.test(reason)) {
    return new LocalServiceError(service, reason, `give the user running it read and write access to ${dataDir} and the folders above it (e.g. chown -R), or remove ${dataDir} to start that service with no data.`);
  }
  return new LocalServiceError(service, reason, `check that ${dataDir} holds that service's data and nothing else has changed it; remove it to start that service with no data.`);
}

/** The text to show for a local cloud that did not start. */
export function startFailureText(err: unknown): string {
  if (err instanceof LocalServiceError) return `The local cloud did not start.\n${err.message}`;
  return `The local cloud did not start: ${messageOf(err)}\nWhat to do: npm start -- --verbose shows the log of every service and function.`;
}
