import { randomUUID } from 'node:crypto';

/** Source of unique ids (snapshot ids, audit ids): random on AWS, seeded in simulation. */
export interface IdSource {
  next(prefix: string): string;
}

export const randomIds: IdSource = { next: (prefix) => `${prefix}-${randomUUID()}` };
