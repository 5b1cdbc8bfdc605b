/** Errors the engine raises for bad configuration or input; messages say what was wrong and what to do. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly setting?: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Formats zod issues as "path: message; path: message" for error texts. */
export function formatIssues(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
): string {
  return issues
    .map((i) => `${i.path.length > 0 ? i.path.map(String).join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * Quota Pilot's own code failed while preparing or handling a call (a request it cannot serialise,
 * a bug): neither the upstream's nor the account's fault. Never retried on other accounts and never
 * counted against an account.
 */
export class LocalFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalFailure';
  }
}
