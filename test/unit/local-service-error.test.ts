// What a local service that cannot start says: which one, why, and what to do, chosen from the cause.
import { describe, expect, it } from 'vitest';
import { LocalServiceError, serviceStartError, startFailureText } from '../../infra/local/service-error.ts';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('a local service that cannot start', () => {
  it('says that another process took the port', () => {
    const err = serviceStartError('MongoDB', '/d/mongodb', withCode('listen EADDRINUSE: address already in use 127.0.0.1:27017', 'EADDRINUSE'));
    expect(err.message).toBe(
      'MongoDB could not start: listen EADDRINUSE: address already in use 127.0.0.1:27017\n' +
        'What to do: another process took its port: stop that process, or start again (ports are chosen free at each start).',
    );
  });

  it('names the data folder it may not read or write', () => {
    const err = serviceStartError('DynamoDB', '/d/dynamodb', withCode("EACCES: permission denied, open '/d/dynamodb/LOCK'", 'EACCES'));
    expect(err.reason).toBe("EACCES: permission denied, open '/d/dynamodb/LOCK'");
    expect(err.remedy).toBe('give the user running it read and write access to /d/dynamodb and the folders above it (e.g. chown -R), or remove /d/dynamodb to start that service with no data.');
  });

  it('says something for a failure without a message, and keeps an error that says it already', () => {
    expect(serviceStartError('S3 and SQS', '/d/s3sqs', undefined).message).toBe(
      "S3 and SQS could not start: it stopped without saying why\nWhat to do: check that /d/s3sqs holds that service's data and nothing else has changed it; remove it to start that service with no data.",
    );
    const own = new LocalServiceError('PostgreSQL', 'initdb failed', 'remove the folder');
    expect(serviceStartError('PostgreSQL', '/d/postgres', own)).toBe(own);
  });

  it('heads the text npm start, the demo and the tests show', () => {
    expect(startFailureText(new LocalServiceError('PostgreSQL', 'the server stopped', 'stop process 12'))).toBe(
      'The local cloud did not start.\nPostgreSQL could not start: the server stopped\nWhat to do: stop process 12',
    );
    expect(startFailureText(new Error('state machine x: bad definition'))).toMatch(/^The local cloud did not start: state machine x: bad definition\nWhat to do: /);
  });
});
