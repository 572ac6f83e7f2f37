/** playment-create-batch: creates (or reuses) a batch and passes its id on as msg.batch_id. */
import { z } from 'zod';
import { preview } from '../jobs/frames';
import { setupActionNode, type ActionNodeDef } from './common/action-node';
import { STRING_TYPES, defineContract, flag } from './common/input-contract';
import { migrate } from './common/migrations';
import type { Msg, Node, RED } from './common/red';

const TYPE = 'playment-create-batch';
const MAX_NAME_LENGTH = 255;
const MAX_DESCRIPTION_LENGTH = 10_000;

/** A batch text: a string (or a finite number) of at most `max` characters, trimmed. */
function batchText(field: string, required: boolean, max: number) {
  return z.unknown().transform((value, ctx): string => {
    const fail = (message: string) => {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    };
    if (value === undefined || value === null || value === '') {
      return required ? fail(`${field} is required: set it in the node, or send msg.payload.name (or a string msg.payload)`) : '';
    }
    if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
    if (typeof value !== 'string' || (required && value.trim() === '')) return fail(`${field} must be a non-empty string, got ${preview(value)}`);
    if (value.length > max) return fail(`${field} is ${value.length} characters long, more than ${max}`);
    return value.trim();
  });
}

/** A plain string payload is the batch name. */
const payloadString = (msg: Msg): unknown => (typeof msg.payload === 'string' ? msg.payload : undefined);

const CONTRACT = defineContract({
  fields: {
    name: {
      property: 'batchName',
      typeProperty: 'batchNameType',
      types: STRING_TYPES,
      msg: ['payload.name', payloadString],
      schema: batchText('batch name', true, MAX_NAME_LENGTH),
    },
    description: {
      property: 'batchDescription',
      typeProperty: 'batchDescriptionType',
      types: STRING_TYPES,
      msg: ['payload.description'],
      schema: batchText('batch description', false, MAX_DESCRIPTION_LENGTH),
    },
  },
  properties: z.object({
    /** Pass an existing batch of the same name on instead of creating another. */
    reuseExisting: flag(true),
  }),
});

export = function register(RED: RED): void {
  function PlaymentCreateBatch(this: Node, def: ActionNodeDef) {
    RED.nodes.createNode(this, def);
    // After createNode, which reads properties the runtime keeps on the original (not enumerable).
    def = migrate(TYPE, def);
    setupActionNode({
      red: RED,
      node: this,
      def,
      type: TYPE,
      contract: CONTRACT,
      handler: async (msg, ctx) => {
        const { name, description } = await ctx.input('name', 'description');
        const res = await ctx.client.createBatch({ name, description }, ctx.call, { reuseExisting: ctx.props.reuseExisting });
        msg.batch_id = res.batch_id;
        msg.payload = {
          batch_id: res.batch_id,
          name,
          description,
          ...(res.reused ? { reused: true } : {}),
          ...(res.recovered ? { recovered: true } : {}),
        };
        return { messages: [msg], statusText: ctx.status.text('batch', { id: res.batch_id.slice(0, 8) }) };
      },
    });
  }
  RED.nodes.registerType(TYPE, PlaymentCreateBatch as never);
};
