import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { isCommonPassword } from './common-passwords.js';

/** Longest password the policy accepts (the wire allows more, so the message can say why). */
export const POLICY_MAX_LENGTH = 128;

/** What a password is checked against besides itself. */
export interface PasswordContext {
  email?: string | null;
  login?: string | null;
  accountNames?: string[];
}

/**
 * Why a password is refused, or null when it is fine. Length counts characters (not bytes); no
 * composition rules; refused when common or when it holds the e-mail, its local part, the login
 * or an account name. The password itself is never changed (no trimming, no case folding).
 */
export function passwordProblem(
  password: string,
  minLength: number,
  context: PasswordContext = {},
  isCommon: (candidate: string) => boolean = isCommonPassword,
): string | null {
  const length = [...password].length;
  if (length < minLength) return `Password must be at least ${minLength} characters`;
  if (length > POLICY_MAX_LENGTH) return `Password must be at most ${POLICY_MAX_LENGTH} characters`;
  if (isCommon(password)) return 'Password is too common; choose another';
  const lower = password.toLowerCase();
  if (personalWords(context).some((word) => lower.includes(word))) return 'Password must not contain your e-mail, login or account name';
  return null;
}

function personalWords(context: PasswordContext): string[] {
  const words = [context.email, context.email?.split('@')[0], context.login, ...(context.accountNames ?? [])];
  return words.filter((word): word is string => typeof word === 'string' && word.length >= 4).map((word) => word.toLowerCase());
}

/** Throws WEAK_PASSWORD (400, a neutral message) when {@link passwordProblem} finds one. */
export function assertPasswordAcceptable(password: string, minLength: number, context?: PasswordContext): void {
  const problem = passwordProblem(password, minLength, context);
  if (problem) throw new DomainError(ErrorCode.WeakPassword, problem, { field: 'password' });
}
