import { nodeArgon2, PasswordHasher, type Argon2 } from './password-hasher.js';

/** A fake argon2 that records calls and finishes only when told. */
function controllable() {
  const pending: Array<() => void> = [];
  const calls: Array<{ op: 'hash' | 'verify'; phc?: string; password: string }> = [];
  const argon2: Argon2 = {
    hash: (password) => {
      calls.push({ op: 'hash', password });
      return Promise.resolve(`phc(${password})`);
    },
    verify: (phc, password) => {
      calls.push({ op: 'verify', phc, password });
      return new Promise((resolve) => pending.push(() => resolve(phc === `phc(${password})`)));
    },
  };
  return { argon2, calls, finishAll: () => pending.splice(0).forEach((finish) => finish()) };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('PasswordHasher', () => {
  it('verifies a dummy hash when there is no user, so an unknown login costs the same work (B2)', async () => {
    const fake = controllable();
    const hasher = new PasswordHasher(2, 10, fake.argon2);
    const result = hasher.verify(null, 'whatever was typed');
    await tick();
    fake.finishAll();
    expect(await result).toBe(false);
    expect(fake.calls).toEqual([
      { op: 'hash', password: 'portico-dummy-password-for-timing' },
      { op: 'verify', phc: 'phc(portico-dummy-password-for-timing)', password: 'whatever was typed' },
    ]);
  });

  it('never says yes without a real hash, even if the dummy matched', async () => {
    const fake = controllable();
    const hasher = new PasswordHasher(1, 10, fake.argon2);
    const result = hasher.verify(null, 'portico-dummy-password-for-timing');
    await tick();
    fake.finishAll();
    expect(await result).toBe(false);
  });

  it('runs at most `concurrency` at once and answers SERVICE_UNAVAILABLE past the queue limit (L1)', async () => {
    const fake = controllable();
    let refused = 0;
    const hasher = new PasswordHasher(2, 3, fake.argon2, () => (refused += 1));
    const accepted = Array.from({ length: 5 }, () => hasher.verify('phc(x)', 'x'));
    await tick();
    expect(hasher.load()).toEqual({ running: 2, waiting: 3 });
    expect(refused).toBe(0);
    await expect(hasher.verify('phc(x)', 'x')).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(refused).toBe(1);
    for (let round = 0; round < 3; round += 1) {
      fake.finishAll();
      await tick();
    }
    expect(await Promise.all(accepted)).toEqual([true, true, true, true, true]);
    expect(hasher.load()).toEqual({ running: 0, waiting: 0 });
  });

  it('hashes with argon2id, m >= 19456, t >= 2, and verifies exactly as typed (P4, P6)', async () => {
    const hasher = new PasswordHasher(2, 10);
    const phc = await hasher.hash('Correct Horse Battery Staple ');
    expect(phc).toMatch(/^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=1\$/);
    const [, memory, time] = /m=(\d+),t=(\d+)/.exec(phc)!;
    // The floor itself, not the constant: lowering ARGON2_PARAMS must fail this.
    expect(Number(memory)).toBeGreaterThanOrEqual(19_456);
    expect(Number(time)).toBeGreaterThanOrEqual(2);
    expect(await hasher.verify(phc, 'Correct Horse Battery Staple ')).toBe(true);
    for (const variant of ['Correct Horse Battery Staple', 'correct horse battery staple ', ' Correct Horse Battery Staple ', 'Correct Horse Battery Stapl']) {
      expect(await nodeArgon2.verify(phc, variant)).toBe(false);
    }
  });
});
