/**
 * A membership, invitation or key rule was broken. `code` is the stable HTTP error code the
 * exception filter maps to a status (`forbidden` 403, `not_found` 404, `last_owner` 409, …).
 */
export class OrganizationRuleError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Another organization's, or a missing, member / invitation / key: always 404, never 403. */
export const notFound = (what: string) => new OrganizationRuleError('not_found', `${what} not found`);

export const forbidden = (why: string) => new OrganizationRuleError('forbidden', why);
