/** playment-create-batch: creates (or reuses) a batch and passes its id on as msg.batch_id. */
import { invalidInput } from '../api/errors';
import { preview } from '../jobs/frames';
import { setupActionNode, type ActionNodeDef } from './common/action-node';
import { payloadField } from './common/resolve';
import { migrate } from './common/migrations';
import type { Msg, Node, RED } from './common/red';

const TYPE = 'playment-create-batch';
const MAX_NAME_LENGTH = 255;

interface CreateBatchDef extends ActionNodeDef {
  batchName?: string;
  batchNameType?: string;
  batchDescription?: string;
  batchDescriptionType?: string;
  reuseExisting?: boolean;
}

/** Blank node fields are filled from the payload: `{name, description}` or a plain name string. */
function fromPayload(msg: Msg, key: 'name' | 'description'): unknown {
  if (typeof msg.payload === 'string') return key === 'name' ? msg.payload : undefined;
  return payloadField(msg, key);
}

function text(value: unknown, field: string, required: boolean, max: number): string {
  if (value === undefined || value === null || value === '') {
    if (required) throw invalidInput(`${field} is required: set it in the node, or send msg.payload.name (or a string msg.payload)`);
    return '';
  }
  if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
  if (typeof value !== 'string' || (required && value.trim() === '')) {
    throw invalidInput(`${field} must be a non-empty string, got ${preview(value)}`);
  }
  if (value.length > max) throw invalidInput(`${field} is ${value.length} characters long, more than ${max}`);
  return value.trim();
}

export = function register(RED: RED): void {
  function PlaymentCreateBatch(this: Node, def: CreateBatchDef) {
    RED.nodes.createNode(this, def);
    // After createNode, which reads properties the runtime keeps on the original (not enumerable).
    def = migrate(TYPE, def);
    const reuseExisting = def.reuseExisting !== false;
    setupActionNode(RED, this, def, TYPE, async (msg, ctx) => {
      const raw = await ctx.resolve({
        name: { value: def.batchName, type: def.batchNameType },
        description: { value: def.batchDescription, type: def.batchDescriptionType },
      });
      const name = text(raw.name ?? fromPayload(msg, 'name'), 'batch name', true, MAX_NAME_LENGTH);
      const description = text(raw.description ?? fromPayload(msg, 'description'), 'batch description', false, 10_000);
      const res = await ctx.client.createBatch({ name, description }, ctx.call, { reuseExisting });
      msg.batch_id = res.batch_id;
      msg.payload = {
        batch_id: res.batch_id,
        name,
        description,
        ...(res.reused ? { reused: true } : {}),
        ...(res.recovered ? { recovered: true } : {}),
      };
      return { messages: [msg], statusText: ctx.status.text('batch', { id: res.batch_id.slice(0, 8) }) };
    });
  }
  RED.nodes.registerType(TYPE, PlaymentCreateBatch as never);
};
