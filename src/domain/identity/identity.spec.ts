import { inEachOrganization, PLATFORM_ORGANIZATION_ID, userStream, type IdentityEvent } from './identity.events';

const signedOut: IdentityEvent = { type: 'UserSignedOut', data: { userId: 'u1', sessionId: 's1' } };

describe('identity facts', () => {
  it('are recorded once in each organization of the user', () => {
    expect(inEachOrganization(['o1', 'o2'], signedOut)).toEqual([
      { organizationId: 'o1', event: signedOut },
      { organizationId: 'o2', event: signedOut },
    ]);
  });

  it("go to the platform's trail for a user in no organization", () => {
    expect(inEachOrganization([], signedOut)).toEqual([{ organizationId: PLATFORM_ORGANIZATION_ID, event: signedOut }]);
  });

  it('keep one stream per user and organization, apart from the org- stream', () => {
    expect(userStream('u1', 'o1')).toBe('user-u1-org-o1');
  });
});
