/**
 * Scale-out over BullMQ on Redis: `import { RedisRateLimiter } from 'tumblr-media-downloader/scale-out'`.
 * A subpath of its own, so that a host that never scales out never loads BullMQ or ioredis.
 * @packageDocumentation
 */
import 'reflect-metadata';

export { RedisRateLimiter, RedisRateLimiterOptions } from './redis-rate-limiter.js';
export { RedisBandwidthLimiter, RedisBandwidthOptions } from './redis-bandwidth-limiter.js';
export { RedisTwinRegistry, RedisTwinRegistryOptions, twinRegistryKey } from './redis-twin-registry.js';
export { jobIdFor, type MediaJob, type WorkerResult } from './media-job.js';
export { openMediaQueue, enqueueBatch, MEDIA_JOB, type MediaQueue, type EnqueueCounts } from './media-queue.js';
export { checkJobData } from './check-job-data.js';
export { probeRedis, openRedis, oncePerOutage, redactRedisUrl, RedisUnavailableError } from './redis-connection.js';
export type { MediaItem } from '../model/media-item.js';
