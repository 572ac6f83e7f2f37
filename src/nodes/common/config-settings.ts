/** The config node's properties as stored in flows.json, parsed into client options. */
import { z } from 'zod';
import { API_VERSIONS } from '../../api/profiles';

const num = (fallback: number, min: number, max: number) =>
  z.preprocess(
    (v) => (v === '' || v === undefined || v === null ? fallback : Number(v)),
    z.number().min(min).max(max),
  );

export const configPropertiesSchema = z.object({
  baseUrl: z.string().trim().min(1).default('https://api.playment.io'),
  apiVersion: z.enum(API_VERSIONS).default('v0'),
  projectId: z.string().trim().min(1, 'a project id is required'),
  /** Seconds. */
  requestTimeout: num(30, 0.1, 3600),
  connectTimeout: num(10, 0.1, 600),
  maxRetries: num(4, 0, 10).pipe(z.number().int()),
  rateLimit: num(5, 0, 10_000),
  maxConcurrent: num(4, 1, 1024).pipe(z.number().int()),
  maxQueue: num(1000, 1, 1_000_000).pipe(z.number().int()),
  tls: z.string().optional(),
});
export type ConfigProperties = z.infer<typeof configPropertiesSchema>;
