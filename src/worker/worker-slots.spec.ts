import { WorkerSlots } from './worker-slots';

describe('WorkerSlots', () => {
  it('grants no more than the capacity across concurrent takers, and takes back what is given', () => {
    const slots = new WorkerSlots(4);

    expect(slots.take(3)).toBe(3); // a claim pass reserves before its query
    expect(slots.take(1)).toBe(1); // a hand-off
    expect(slots.take(1)).toBe(0); // a timer claim finds none
    slots.give(2); // the claim came back with one run
    expect(slots.free).toBe(2);
    expect(slots.take(5)).toBe(2);
    expect(slots.inUse).toBe(4);
  });
});
