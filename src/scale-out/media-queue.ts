import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ScaleOutConfig } from '../config/downloader-config.js';
import { jobIdFor, type MediaJob } from './media-job.js';

/** The BullMQ job name of every media item. */
export const MEDIA_JOB = 'media';

/** The queue of media jobs, as `enqueue`, `worker` and `status` open it. */
export type MediaQueue = Queue<MediaJob, unknown, typeof MEDIA_JOB>;

/**
 * Open the queue on an existing connection. Finished jobs are kept, never removed: a kept job is what
 * makes a second enqueue of the same item a no-op, and its return value is what `status --results`
 * exports (the cost, about 1 KB of Redis per item, is worked out in docs/scale-out.md).
 */
export function openMediaQueue(redis: Redis, config: ScaleOutConfig): MediaQueue {
  return new Queue<MediaJob, unknown, typeof MEDIA_JOB>(config.queueName, {
    connection: redis,
    // BullMQ's event stream is for live listeners (QueueEvents), which nothing here uses: 1,000 recent events
    // are plenty to watch with, where its default 10,000 held about 1 MB of Redis for nothing.
    streams: { events: { maxLen: 1_000 } },
    defaultJobOptions: {
      attempts: config.attempts,
      backoff: { type: 'exponential', delay: 1_000 },
      removeOnComplete: false,
      removeOnFail: false,
    },
  });
}

/** What one {@link enqueueBatch} did. */
export interface EnqueueCounts {
  added: number;
  alreadyQueued: number;
}

/**
 * Add a batch of items, each under its {@link jobIdFor} id. BullMQ never adds a second job under an id
 * it holds; the ids it already holds are asked first (one pipelined `EXISTS` each), only to say how many
 * were new. Two enqueues racing on one list may count one item as new in both; neither adds it twice.
 */
export async function enqueueBatch(queue: MediaQueue, redis: Redis, items: readonly MediaJob[]): Promise<EnqueueCounts> {
  const byId = new Map<string, MediaJob>();
  for (const item of items) byId.set(jobIdFor(item), item);
  const ids = [...byId.keys()];
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.exists(queue.toKey(id));
  const answers = (await pipeline.exec()) ?? [];
  const fresh = ids.filter((_, i) => answers[i]?.[1] === 0);
  if (fresh.length > 0) {
    await queue.addBulk(
      fresh.map((id) => {
        const data = byId.get(id)!;
        return { name: MEDIA_JOB, data, opts: { jobId: id, ...bullPriority(data.priority) } };
      }),
    );
  }
  return { added: fresh.length, alreadyQueued: items.length - fresh.length };
}

/** BullMQ's lowest priority number is its highest priority, from 1 to 2^21; ours is higher first, around 0. */
const BULL_PRIORITY_ZERO = 2 ** 20;

/**
 * An item's priority as BullMQ's job option. An item without one gets none, and BullMQ serves such jobs
 * before every prioritized one: a list that uses priorities should give every item one (docs/scale-out.md).
 */
function bullPriority(priority: number | undefined): { priority?: number } {
  if (priority === undefined) return {};
  return { priority: Math.min(2 ** 21, Math.max(1, BULL_PRIORITY_ZERO - priority)) };
}
