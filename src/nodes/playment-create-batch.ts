/** playment-create-batch: creates (or reuses) a batch and passes its id on as msg.batch_id. */
import { z } from 'zod';
import { invalidInput } from '../api/errors';
import { isBlank } from '../jobs/fill-blanks';
import { preview } from '../jobs/frames';
import { registerActionNode, type ActionContext } from './common/action-node';
import { STRING_TYPES, defineContract, flag } from './common/input-contract';
import type { Msg, RED } from './common/red';

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
    if (typeof value !== 'string' || (required && value.trim() === ''))
      return fail(`${field} must be a non-empty string, got ${preview(value)}`);
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
    /** Neither read nor replace msg.payload: the batch goes on msg.batch (a submit node can follow directly). */
    keepPayload: flag(false),
  }),
});

/**
 * The batch's name and description. With keepPayload, msg.payload holds something else (frames):
 * only the node's fields count (fixed, or read from msg, flow, global or env).
 */
async function batchInput(ctx: ActionContext<typeof CONTRACT>): Promise<{ name: string; description: string }> {
  if (!ctx.props.keepPayload) return ctx.input('name', 'description');
  const { node } = await ctx.inputSources(['name', 'description'] as const);
  if (isBlank(node.name)) {
    throw invalidInput(
      'batch name is required: with "Keep msg.payload" the node does not read msg.payload; set the name in the node (a fixed value, or a msg, flow, global or env property)',
    );
  }
  return { name: checked('name', node.name), description: checked('description', node.description) };
}

function checked(field: 'name' | 'description', value: unknown): string {
  const res = CONTRACT.fields[field].schema.safeParse(value);
  if (!res.success) throw invalidInput(res.error.issues[0].message);
  return res.data;
}

export = function register(RED: RED): void {
  registerActionNode(RED, {
    type: TYPE,
    contract: CONTRACT,
    behaviour: () => ({
      handler: async (msg, ctx) => {
        const { name, description } = await batchInput(ctx);
        const res = await ctx.client.createBatch({ name, description }, ctx.call, { reuseExisting: ctx.props.reuseExisting });
        const batch = {
          batch_id: res.batch_id,
          name,
          description,
          ...(res.reused ? { reused: true } : {}),
          ...(res.recovered ? { recovered: true } : {}),
        };
        msg.batch_id = res.batch_id;
        if (ctx.props.keepPayload) msg.batch = batch;
        else msg.payload = batch;
        return { messages: [msg], statusText: ctx.status.text('batch', { id: res.batch_id.slice(0, 8) }) };
      },
    }),
  });
};
