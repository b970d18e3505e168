// The indexes each context's MongoDB store queries by besides _id are made the first time a process uses the
// collection (the shared cloud's MongoDB, through the stores themselves). The local MongoDB filters every query over
// its whole collection whatever the indexes, so whether DocumentDB uses them is not something it can show.
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deleteDetGroupResults, readVideoTotals } from '../../functions/analytics/store.ts';
import { findTasksForDataset, listDatasetVersions, listPredictions, listUnfinishedDatasets } from '../../functions/annotation/annotation-store.ts';
import { listTasks, listUploads } from '../../functions/annotation/store.ts';
import { closeMongo } from '../../functions/lib/mongo.ts';

let client: MongoClient;
const db = () => client.db('framewise');

beforeAll(async () => {
  await closeMongo();
  process.env.MONGODB_URI = inject('endpoints').mongodb;
  client = await new MongoClient(inject('endpoints').mongodb).connect();
});

afterAll(async () => {
  await closeMongo();
  await client?.close();
});

describe('MongoDB indexes', () => {
  it("are made by the stores' first use", async () => {
    const uuid = crypto.randomUUID();
    await Promise.all([
      readVideoTotals(uuid, null), deleteDetGroupResults(uuid), listUploads(uuid), listTasks(uuid), listPredictions(uuid), listDatasetVersions(uuid),
      listUnfinishedDatasets(), findTasksForDataset([uuid], [1]),
    ]);
    const keys = async (collection: string) => (await db().collection(collection).indexes()).map((i) => JSON.stringify(i.key));
    expect(await keys('rollups')).toEqual(expect.arrayContaining(['{"videoId":1,"run":1,"detGroupId":1}', '{"detGroupId":1}']));
    expect(await keys('frame_series')).toEqual(expect.arrayContaining(['{"videoId":1,"run":1,"detGroupId":1}', '{"detGroupId":1}']));
    expect(await keys('annotation_tasks')).toEqual(expect.arrayContaining(['{"uploadId":1,"index":1}', '{"projectId":1,"auditStatus":1,"generated":1}']));
    expect(await keys('annotation_uploads')).toEqual(expect.arrayContaining(['{"projectId":1,"createdAt":1}']));
    expect(await keys('annotation_predictions')).toEqual(expect.arrayContaining(['{"uploadId":1,"version":1}']));
    expect(await keys('annotation_datasets')).toEqual(expect.arrayContaining(['{"dataset":1,"version":1}', '{"state":1,"createdAt":1}']));
  });
});
