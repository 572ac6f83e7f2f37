/** The config node's properties as stored in flows.json, parsed into client options. */
import { z } from 'zod';
import { API_VERSIONS } from '../../api/profiles';
import { NUMERIC_SETTINGS, settingSchema } from './limits';

const limits = NUMERIC_SETTINGS['playment-config'];

/** "." and ".." would leave their segment of every request path (/v0/projects/../jobs). */
export const PROJECT_ID_DOTS = 'the project id cannot be "." or "..": it is a segment of every request path';

export const configPropertiesSchema = z.object({
  baseUrl: z.string().trim().min(1).default('https://api.playment.io'),
  apiVersion: z.enum(API_VERSIONS).default('v0'),
  projectId: z
    .string()
    .trim()
    .min(1, 'a project id is required')
    .refine((id) => id !== '.' && id !== '..', PROJECT_ID_DOTS),
  /** Seconds. */
  requestTimeout: settingSchema(limits.requestTimeout),
  /** Seconds. */
  connectTimeout: settingSchema(limits.connectTimeout),
  maxRetries: settingSchema(limits.maxRetries),
  /** Requests per second; 0 = no limit. */
  rateLimit: settingSchema(limits.rateLimit),
  maxConcurrent: settingSchema(limits.maxConcurrent),
  maxQueue: settingSchema(limits.maxQueue),
  tls: z.string().optional(),
  /** Id of a core http proxy config node; empty: the proxy environment variables. */
  proxy: z.string().optional(),
});
export type ConfigProperties = z.infer<typeof configPropertiesSchema>;
