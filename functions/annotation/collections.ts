// The annotation context's MongoDB collections, each with the indexes its stores query by besides _id: declared
// once here, as both store modules use the tasks collection.
import type { Collection, Document } from 'mongodb';
import { collectionWithIndexes, type IndexFields } from '../lib/mongo.ts';

export const COLLECTIONS = {
  projects: 'annotation_projects',
  uploads: 'annotation_uploads',
  tasks: 'annotation_tasks',
  frames: 'annotation_frames',
  predictions: 'annotation_predictions',
  datasets: 'annotation_datasets',
} as const;
export type AnnotationCollection = (typeof COLLECTIONS)[keyof typeof COLLECTIONS];

const INDEXES: Record<AnnotationCollection, readonly IndexFields[]> = {
  // listed by name: a handful of documents
  annotation_projects: [],
  // a project's uploads, oldest first
  annotation_uploads: [['projectId', 'createdAt']],
  // an upload's tasks in order (and counted, and cut back); a dataset's tasks by project and audit status
  annotation_tasks: [['uploadId', 'index'], ['projectId', 'auditStatus', 'generated']],
  // read by _id only
  annotation_frames: [],
  // an upload's prediction sets by version
  annotation_predictions: [['uploadId', 'version']],
  // a dataset's versions; the builds not finished, oldest first
  annotation_datasets: [['dataset', 'version'], ['state', 'createdAt']],
};

export const annotationCollection = <T extends Document>(name: AnnotationCollection): Promise<Collection<T>> => collectionWithIndexes<T>(name, INDEXES[name]);
