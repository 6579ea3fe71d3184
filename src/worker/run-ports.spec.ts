import { newApprovalToken } from './run-ports';

describe('approval tokens', () => {
  it('never begin with "-", which a command line takes for an option', () => {
    // Bare base64url, one token in 64 began with "-": 2,000 of them held ~31 such.
    const tokens = Array.from({ length: 2000 }, newApprovalToken);
    expect(tokens.filter((token) => token.startsWith('-'))).toEqual([]);
    expect(tokens.every((token) => /^tha_[A-Za-z0-9_-]{43}$/.test(token))).toBe(true);
    expect(new Set(tokens).size).toBe(tokens.length);
  });
});
