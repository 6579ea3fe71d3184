import { payloadSize, sizeText, type PayloadSize } from '../json-size';
import { skip, type OpContext, type OpOutcome } from './op-outcome';
import type { WorkflowDraft } from './workflow-draft';

/** The slot of the workflow's variables, beside its blocks' params. */
export const VARIABLES = Symbol('variables');
type Slot = string | typeof VARIABLES;

/** Why a value cannot take its slot, or the way to count it there once it does. */
export type Weighing = { fits: true; commit: () => void } | { fits: false; over: 'slot' | 'workflow'; size: PayloadSize | undefined };

/**
 * What a workflow's data weighs as UTF-8 JSON — each block's params, and its variables — held to
 * two limits: one slot's (what a run payload may hold: such params could never run) and all of
 * them together (a workflow is read, validated, hashed and pinned whole at every run start, and
 * every patch answers with it). Measured at the first op of a batch that needs it, on the draft
 * as it is then, and kept up to date through the batch. A workflow stored over the total before
 * these limits may still shrink: a change that makes no slot heavier is never refused for it.
 */
export class ParamsWeight {
  private sizes: Map<Slot, number> | undefined;
  private total = 0;

  constructor(
    private readonly draft: WorkflowDraft,
    readonly maxSlotBytes: number,
    readonly maxTotalBytes: number,
  ) {}

  /** Whether `value` may become `slot`'s (a block id, or `VARIABLES`); `commit` counts it there. */
  weigh(slot: Slot, value: unknown): Weighing {
    const size = payloadSize(value, this.maxSlotBytes);
    if (!size || size.bytes > this.maxSlotBytes) return { fits: false, over: 'slot', size };
    const bytes = size.bytes;
    const sizes = this.measured();
    const before = sizes.get(slot) ?? 0;
    const total = this.total - before + bytes;
    if (total > this.maxTotalBytes && bytes > before) return { fits: false, over: 'workflow', size: { bytes: total, exact: true } };
    return {
      fits: true,
      commit: () => {
        sizes.set(slot, bytes);
        this.total = total;
      },
    };
  }

  /** A block left the workflow: its params no longer count. */
  remove(blockId: string): void {
    if (!this.sizes) return; // measured later, on the draft without it
    this.total -= this.sizes.get(blockId) ?? 0;
    this.sizes.delete(blockId);
  }

  private measured(): Map<Slot, number> {
    if (this.sizes) return this.sizes;
    const sizes = new Map<Slot, number>();
    const count = (slot: Slot, value: unknown) => {
      const bytes = payloadSize(value, Number.POSITIVE_INFINITY)?.bytes ?? 0;
      sizes.set(slot, bytes);
      this.total += bytes;
    };
    for (const [id, block] of this.draft.blocks) count(id, block.params);
    count(VARIABLES, this.draft.variables);
    this.sizes = sizes;
    return sizes;
  }
}

/** The skip for data past a limit of `ctx.weight`: one slot's (`params_too_large`), or the workflow's. */
export function tooHeavy(ctx: OpContext, what: string, weighed: { over: 'slot' | 'workflow'; size: PayloadSize | undefined }): OpOutcome {
  const bytes = weighed.size ? `${sizeText(weighed.size)} bytes` : 'not JSON';
  if (weighed.over === 'slot') {
    return skip('params_too_large', `The ${what} would be ${bytes} as JSON; at most ${ctx.weight.maxSlotBytes} are allowed.`, {
      hint: 'Keep large data out of the workflow: pass it as run input ({{trigger.…}}), or have a step fetch it.',
    });
  }
  return skip('workflow_too_large', `With this change the workflow's params and variables would be ${bytes} as JSON; at most ${ctx.weight.maxTotalBytes} are allowed together.`, {
    hint: 'Shrink or remove blocks, pass large data as run input, or split the work into several workflows.',
  });
}
