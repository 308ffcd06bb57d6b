import { DomainError, ErrorCode } from '#libs/errors/index.js';

/**
 * Whether `error` is a service's refusal of a payload naming `field`, which it does not know: a
 * service of the release before, during a rolling upgrade (docs/deploy.md §4). Services refuse
 * unknown fields in two shapes: class-validator's (`problems`, each `field <name> should not exist`)
 * and the hand-written parsers' of the hot subjects (`field`, with `<name> should not exist`).
 */
export function refusesUnknownField(error: unknown, field: string): boolean {
  if (!(error instanceof DomainError) || error.code !== ErrorCode.ValidationFailed) return false;
  const details = error.details as { problems?: unknown; field?: unknown } | undefined;
  if (Array.isArray(details?.problems)) return details.problems.includes(`field ${field} should not exist`);
  return details?.field === field && error.message === `${field} should not exist`;
}
