import type { EventMetadata } from '../../src/event-store/event';

export const systemMetadata: EventMetadata = { actor: { type: 'system', id: 'test' } };
