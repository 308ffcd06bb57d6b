import { DomainError, ErrorCode } from '#libs/errors/index.js';

/** What a password is checked against besides itself. */
export interface PasswordContext {
  email?: string;
  login?: string;
  accountName?: string;
}

/** Why a password was refused, or null when it is fine. Pure, for table-driven tests. */
export function passwordProblem(
  password: string,
  minLength: number,
  context: PasswordContext = {},
  isCommon: (p: string) => boolean = () => false,
): string | null {
  const length = [...password].length;
  if (length < minLength) return `Password must be at least ${minLength} characters`;
  if (length > 128) return 'Password must be at most 128 characters';
  if (isCommon(password)) return 'Password is too common; choose another';
  const lower = password.toLowerCase();
  for (const word of personalWords(context)) {
    if (lower.includes(word)) return 'Password must not contain your e-mail, login or account name';
  }
  return null;
}

function personalWords(context: PasswordContext): string[] {
  const words = [context.email, context.email?.split('@')[0], context.login, context.accountName];
  return words.filter((word): word is string => typeof word === 'string' && word.length >= 4).map((word) => word.toLowerCase());
}

/** Throws WEAK_PASSWORD when {@link passwordProblem} finds one. */
export function assertPasswordAcceptable(password: string, minLength: number, context?: PasswordContext, isCommon?: (p: string) => boolean): void {
  const problem = passwordProblem(password, minLength, context, isCommon);
  if (problem) throw new DomainError(ErrorCode.WeakPassword, problem);
}
