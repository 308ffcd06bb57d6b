import { ASCII_ONLY_FOLDING_WARNING, CaseFoldingCheck } from './case-folding-check.js';
import { IdentityTestDatabase } from './integration-harness-spec.js';

/** The check on a database of LC_CTYPE `ctype` (the server's default when undefined), and what it warned. */
function checkOn(ctype?: string) {
  const db = new IdentityTestDatabase(ctype);
  beforeAll(() => db.start());
  afterAll(() => db.stop());
  return async () => {
    const warnings: string[] = [];
    const folds = await new CaseFoldingCheck(db.dataSource, { warn: (message: string) => void warnings.push(message) } as never).check();
    return { folds, warnings };
  };
}

describe('the case-folding check at start', () => {
  describe("on a database of LC_CTYPE C (CloudNativePG's default)", () => {
    const check = checkOn('C');
    it('warns that case is folded for ASCII letters only', async () => {
      await expect(check()).resolves.toEqual({ folds: false, warnings: [ASCII_ONLY_FOLDING_WARNING] });
    });
  });

  describe('on a database of a UTF-8 locale', () => {
    const check = checkOn();
    it('says nothing', async () => {
      await expect(check()).resolves.toEqual({ folds: true, warnings: [] });
    });
  });
});
