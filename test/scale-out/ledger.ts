/**
 * The MQTT side of the scale-out test, as a user's producer and reconciler would do it with the
 * `mqtt` package: publish sequences (QoS 1), watch the ledger `playment/jobs/#` that the
 * instances publish (retained), and read it back from the broker's retained messages.
 */
import { connectAsync, type MqttClient } from 'mqtt';
import { z } from 'zod';
import { waitFor } from '../support/wait';

export const LEDGER_TOPIC = 'playment/jobs/#';
const LEDGER_PREFIX = 'playment/jobs/';
/** A ledger record is a few short ids: anything longer is not one. */
const MAX_RECORD_BYTES = 1024;

const recordSchema = z.object({
  reference_id: z.string().min(1),
  job_id: z.string().min(1),
  existing: z.boolean().optional(),
});
export type LedgerRecord = z.infer<typeof recordSchema>;

export interface Sequence {
  topic: string;
  frames: string[];
  /** What the submit node derives from the frames. */
  referenceId: string;
}

export async function connect(url: string, clientId: string): Promise<MqttClient> {
  return connectAsync(url, { clientId, protocolVersion: 5, clean: true, reconnectPeriod: 0, connectTimeout: 10_000 });
}

/** Publishes each sequence's frames (JSON) to its topic with QoS 1; resolves when the broker acknowledged all. */
export async function publishSequences(client: MqttClient, sequences: readonly Sequence[]): Promise<void> {
  await Promise.all(sequences.map((s) => client.publishAsync(s.topic, JSON.stringify(s.frames), { qos: 1 })));
}

/** One ledger message: its record, or an error saying what is wrong with it. */
export function parseRecord(topic: string, payload: Buffer): LedgerRecord {
  if (payload.length > MAX_RECORD_BYTES) throw new Error(`${topic}: ${payload.length} bytes, not a ledger record`);
  const record = recordSchema.parse(JSON.parse(payload.toString('utf8')));
  if (topic !== LEDGER_PREFIX + record.reference_id) throw new Error(`${topic} holds the record of ${record.reference_id}`);
  return record;
}

/** A live subscription to the ledger: the latest record per reference id, and how many messages came. */
export class LedgerWatch {
  readonly records = new Map<string, LedgerRecord>();
  messages = 0;
  existing = 0;
  /** Date.now() of the last message (for "nothing has happened for a while"). */
  lastMessageAt = Date.now();
  readonly problems: string[] = [];

  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic, payload) => {
      this.messages++;
      this.lastMessageAt = Date.now();
      try {
        const record = parseRecord(topic, payload);
        if (record.existing) this.existing++;
        this.records.set(record.reference_id, record);
      } catch (err) {
        this.problems.push(err instanceof Error ? err.message : String(err));
      }
    });
  }

  static async start(url: string, clientId: string): Promise<LedgerWatch> {
    const client = await connect(url, clientId);
    const watch = new LedgerWatch(client);
    await client.subscribeAsync(LEDGER_TOPIC, { qos: 1 });
    return watch;
  }

  stop(): Promise<void> {
    return this.client.endAsync();
  }
}

/**
 * Reads the ledger back from the retained messages with a fresh client, as a reconciler that
 * was not running would: resolves once `expected` records came (bounded wait).
 */
export async function readRetainedLedger(url: string, expected: number): Promise<Map<string, LedgerRecord>> {
  const watch = await LedgerWatch.start(url, 'ledger-reader');
  try {
    await waitFor(`${expected} retained ledger records`, () => watch.records.size >= expected, 60_000, 250).catch((err: Error) => {
      throw new Error(`${err.message} (${watch.records.size} came)`);
    });
    if (watch.problems.length > 0)
      throw new Error(`retained ledger messages that are not records: ${watch.problems.slice(0, 3).join('; ')}`);
    return new Map(watch.records);
  } finally {
    await watch.stop();
  }
}
