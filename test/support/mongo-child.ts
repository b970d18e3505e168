// The local MongoDB alone in its own process, so that a test can kill it with SIGKILL: prints its URI when ready.
import { startMongo } from '../../infra/local/mongodb.ts';
import { freePort } from '../../infra/local/ports.ts';

const [dataDir, compactAfterBytes] = process.argv.slice(2);
const mongo = await startMongo({ dataDir: dataDir!, port: await freePort(), compactAfterBytes: Number(compactAfterBytes) || undefined });
process.stdout.write(`${JSON.stringify({ uri: mongo.uri })}\n`);
process.on('SIGTERM', () => void mongo.stop().then(() => process.exit(0)));
