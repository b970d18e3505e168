// What Framewise asks of MongoDB, in one place, and the part of Amazon DocumentDB 5.0 it was checked against.
// test/unit/mongo-compat.test.ts scans functions/ and fails when the code uses an operator, driver method or
// option missing from MONGO_USED, or when an entry of MONGO_USED is not in DOCUMENTDB_5_0 (or is in
// DOCUMENTDB_5_0_UNSUPPORTED). Using something new: add it to MONGO_USED, find it in the pages below for 5.0,
// and add it to DOCUMENTDB_5_0 with the page it is on.

export type DocumentDbKind = 'query operator' | 'update operator' | 'aggregation stage' | 'aggregation expression' | 'command' | 'client option' | 'operation option';

export type MongoFeature =
  | { readonly kind: Exclude<DocumentDbKind, 'command'>; readonly why: string }
  /** A method of the driver, by the server command it sends (null: it sends none). */
  | { readonly kind: 'driver method'; readonly command: string | null; readonly why: string };

/** Every operator, driver method and option the code uses. A driver method is checked by the command it sends. */
export const MONGO_USED: Readonly<Record<string, MongoFeature>> = {
  $in: { kind: 'query operator', why: 'documents by _id in batches (analytics/store.ts)' },
  $nin: { kind: 'query operator', why: "a run's documents of det_groups not kept" },
  $ne: { kind: 'query operator', why: 'annotation tasks planned by another job than the one planning them again (annotation/store.ts)' },
  $gte: { kind: 'query operator', why: 'annotation tasks a regeneration no longer has (annotation/store.ts)' },
  $or: { kind: 'query operator', why: 'a dataset version nobody holds: no lease, or one that has passed (annotation/annotation-store.ts)' },
  $lt: { kind: 'query operator', why: "a dataset build's lease that has passed" },
  $each: { kind: 'update operator', why: "the entries of one status change appended to an annotation task's history" },
  $set: { kind: 'update operator', why: 'fields of one annotation document changed in one write' },
  $setOnInsert: { kind: 'update operator', why: "an annotation task's creation time, kept when it is regenerated" },
  $push: { kind: 'update operator', why: "an entry of an annotation task's history" },
  $inc: { kind: 'update operator', why: "an annotation upload's count of processing requests" },
  $unset: { kind: 'update operator', why: "an annotation upload's error, cleared by a new request" },
  $max: { kind: 'update operator', why: "an annotation upload's progress, which only grows" },
  // driver methods
  connect: { kind: 'driver method', command: 'isMaster', why: 'MongoClient.connect: handshake and replica set discovery' },
  close: { kind: 'driver method', command: null, why: 'MongoClient.close: closes the pool (its endSessions is best effort)' },
  db: { kind: 'driver method', command: null, why: 'MongoClient.db' },
  collection: { kind: 'driver method', command: null, why: 'Db.collection' },
  find: { kind: 'driver method', command: 'find', why: 'documents by _id, with a projection' },
  findOne: { kind: 'driver method', command: 'find', why: 'one document by _id' },
  toArray: { kind: 'driver method', command: 'getMore', why: 'FindCursor.toArray: the remaining batches' },
  replaceOne: { kind: 'driver method', command: 'update', why: 'a document written whole by its deterministic _id, with upsert' },
  deleteOne: { kind: 'driver method', command: 'delete', why: 'one document by _id' },
  deleteMany: { kind: 'driver method', command: 'delete', why: "a run's or a det_group's documents" },
  insertOne: { kind: 'driver method', command: 'insert', why: 'a new annotation project or upload; a duplicate _id is refused' },
  updateOne: { kind: 'driver method', command: 'update', why: 'one annotation document changed in one conditional write' },
  findOneAndUpdate: { kind: 'driver method', command: 'findAndModify', why: "an annotation upload's next request, recorded only if none came in between" },
  countDocuments: { kind: 'driver method', command: 'aggregate', why: "an upload's annotation tasks, and those generated (progress)" },
  createIndex: { kind: 'driver method', command: 'createIndexes', why: "a collection's indexes, made at its first use in a process (lib/mongo.ts)" },
  // operation options
  upsert: { kind: 'operation option', why: 'replaceOne creates the document the first time' },
  projection: { kind: 'operation option', why: 'only _id when checking which documents exist' },
  sort: { kind: 'operation option', why: 'annotation projects by name, uploads by creation, tasks by index' },
  limit: { kind: 'operation option', why: 'the highest version of a prediction set or dataset' },
  returnDocument: { kind: 'operation option', why: 'findOneAndUpdate answers the document as written' },
  // client options (functions/lib/mongo.ts)
  maxPoolSize: { kind: 'client option', why: 'a small pool per Lambda instance' },
  ca: { kind: 'client option', why: 'the bundled RDS CAs DocumentDB certificates chain to' },
  tls: { kind: 'client option', why: 'DocumentDB requires TLS (tls: enabled in its parameter group)' },
  replicaSet: { kind: 'client option', why: 'rs0: DocumentDB clusters answer as a replica set' },
  readPreference: { kind: 'client option', why: 'primary: read what was just written' },
  retryWrites: { kind: 'client option', why: 'false: DocumentDB 5.0 has no retryable writes (the driver defaults to true)' },
};

const MONGO_APIS = 'https://docs.aws.amazon.com/documentdb/latest/developerguide/mongo-apis.html';
const CONNECT = 'https://docs.aws.amazon.com/documentdb/latest/developerguide/connect_programmatically.html';

/**
 * Amazon DocumentDB 5.0's supported set, transcribed for the kinds Framewise draws from: only names supported
 * since 3.6 or 4.0, so that they hold for 5.0 (the guide's operator lists also hold 8.0-only ones; check a new
 * name against the 5.0 column of MONGO_APIS before adding it). Sources: MONGO_APIS (query and projection
 * operators, update operators, aggregation pipeline operators, "Query and write operations" commands) and
 * CONNECT (the driver options of a DocumentDB connection).
 */
export const DOCUMENTDB_5_0: Readonly<Record<DocumentDbKind, { readonly source: string; readonly names: readonly string[] }>> = {
  'query operator': {
    source: `${MONGO_APIS}#mongo-apis-query`,
    names: ['$all', '$and', '$elemMatch', '$eq', '$exists', '$gt', '$gte', '$in', '$lt', '$lte', '$mod', '$ne', '$nin', '$nor', '$not', '$or', '$regex', '$size', '$type'],
  },
  'update operator': {
    source: `${MONGO_APIS}#mongo-apis-update`,
    names: ['$addToSet', '$bit', '$currentDate', '$each', '$inc', '$max', '$min', '$mul', '$pop', '$position', '$pull', '$pullAll', '$push', '$rename', '$set',
      '$setOnInsert', '$slice', '$sort', '$unset'],
  },
  'aggregation stage': {
    source: `${MONGO_APIS}#mongo-apis-aggregation-pipeline`,
    names: ['$addFields', '$count', '$group', '$limit', '$lookup', '$match', '$out', '$project', '$redact', '$replaceRoot', '$sample', '$skip', '$sort', '$unwind'],
  },
  'aggregation expression': {
    source: `${MONGO_APIS}#mongo-apis-aggregation-pipeline`,
    names: ['$add', '$addToSet', '$and', '$avg', '$cond', '$divide', '$eq', '$gt', '$gte', '$ifNull', '$lt', '$lte', '$max', '$min', '$multiply', '$ne', '$not', '$or',
      '$push', '$size', '$subtract', '$sum'],
  },
  command: {
    source: `${MONGO_APIS}#mongo-apis-database`,
    names: ['isMaster', 'find', 'getMore', 'killCursors', 'insert', 'update', 'delete', 'findAndModify', 'aggregate', 'count', 'distinct', 'createIndexes', 'listIndexes'],
  },
  'client option': {
    source: CONNECT,
    names: ['tls', 'tlsCAFile', 'ca', 'replicaSet', 'readPreference', 'retryWrites', 'maxPoolSize', 'minPoolSize', 'connectTimeoutMS', 'serverSelectionTimeoutMS', 'socketTimeoutMS',
      'directConnection', 'appName'],
  },
  'operation option': {
    source: `${MONGO_APIS}#mongo-apis-database`,
    names: ['upsert', 'projection', 'sort', 'limit', 'skip', 'batchSize', 'ordered', 'returnDocument', 'maxTimeMS'],
  },
};

/** What DocumentDB 5.0 does not support, or supports only once set up: never use these. */
export const DOCUMENTDB_5_0_UNSUPPORTED: Readonly<Record<string, string>> = {
  'retryWrites=true': 'retryable writes exist from DocumentDB 8.0.2 only: https://docs.aws.amazon.com/documentdb/latest/developerguide/retryable-writes.html',
  collation: 'collation exists in DocumentDB 8.0 only: https://docs.aws.amazon.com/documentdb/latest/developerguide/collation.html',
  $where: `server-side JavaScript is not supported: ${MONGO_APIS}#mongo-apis-query`,
  $function: `server-side JavaScript is not supported: ${MONGO_APIS}#mongo-apis-aggregation-pipeline`,
  $accumulator: `server-side JavaScript is not supported: ${MONGO_APIS}#mongo-apis-aggregation-pipeline`,
  mapReduce: `not supported: ${MONGO_APIS}#mongo-apis-dababase-aggregation`,
  GridFSBucket: `GridFS needs filemd5, not supported: ${MONGO_APIS}#mongo-apis-dababase-administrative`,
  capped: `capped collections are not supported: ${MONGO_APIS}#mongo-apis-dababase-administrative`,
  createView: `views exist in DocumentDB 8.0 only: ${MONGO_APIS}#mongo-apis-dababase-administrative`,
  watch: 'change streams answer only on collections they were enabled for (modifyChangeStreams): https://docs.aws.amazon.com/documentdb/latest/developerguide/change_streams.html',
};
