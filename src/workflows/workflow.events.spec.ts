import { buildBuiltinCatalog } from '../connectors/builtin-catalog';
import { apply } from '../domain/workflow/apply-ops';
import { emptyWorkflow } from '../domain/workflow/workflow';
import { patchEvents } from './workflow.events';
import { requestHash } from '../http/request-hash';

const catalog = buildBuiltinCatalog();

describe('patchEvents', () => {
  it('records applied ops, then skipped ops, then one WorkflowPatched carrying the new version', () => {
    const result = apply(
      emptyWorkflow(),
      [
        { operation_type: 'add', block_id: 'a', type: 'transform', params: { template: 1 } },
        { operation_type: 'remove', block_id: 'ghost' },
      ],
      catalog,
      { kind: 'api_key' },
    );
    const events = patchEvents(result, 4);
    expect(events.map((e) => e.type)).toEqual(['EditOpApplied', 'EditOpSkipped', 'WorkflowPatched']);
    expect(events.every((e) => e.data.version === 5)).toBe(true);
    expect(events[2]).toMatchObject({ data: { previousVersion: 4, applied: 1, skipped: 1, workflow: result.workflow } });
  });

  it('records the skips of an all-skipped batch at the unchanged version, without WorkflowPatched', () => {
    const result = apply(emptyWorkflow(), [{ operation_type: 'remove', block_id: 'ghost' }], catalog, { kind: 'api_key' });
    expect(patchEvents(result, 3)).toEqual([expect.objectContaining({ type: 'EditOpSkipped', data: expect.objectContaining({ version: 3, reason_code: 'block_not_found' }) })]);
  });

  it('never records a hidden value, even in the record of the skipped op', () => {
    const result = apply(
      emptyWorkflow(),
      [{ operation_type: 'add', block_id: 's', type: 'slack_send_message', params: { channel: '#a', text: 'hi', botToken: 'xoxb-leak' } }],
      catalog,
      { kind: 'api_key' },
    );
    expect(JSON.stringify(patchEvents(result, 1))).not.toContain('xoxb-leak');
    expect(JSON.stringify(patchEvents(result, 1))).toContain('[hidden]');
  });
});

describe('requestHash', () => {
  it('ignores object key order but not values or array order', () => {
    expect(requestHash({ ops: [{ a: 1, b: 2 }] })).toBe(requestHash({ ops: [{ b: 2, a: 1 }] }));
    expect(requestHash({ ops: [{ a: 1 }] })).not.toBe(requestHash({ ops: [{ a: 2 }] }));
    expect(requestHash({ ops: [1, 2] })).not.toBe(requestHash({ ops: [2, 1] }));
  });
});
