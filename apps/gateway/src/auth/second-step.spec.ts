import { passedSecondStep, withSecondStep } from './second-step.js';

const actor = () => ({ type: 'user' as const, id: '7d1f0f2e-8a51-4c53-9f8e-0f3b3b1c2d4e', sessionId: 'c0ffee00-0000-4000-8000-000000000001' });

describe("an actor's second step, as the gateway keeps it", () => {
  it('is read back as marked, and is false on an actor never marked', () => {
    expect(passedSecondStep(withSecondStep(actor(), true))).toBe(true);
    expect(passedSecondStep(withSecondStep(actor(), false))).toBe(false);
    expect(passedSecondStep(actor())).toBe(false);
  });

  it('survives the copy each request makes, and never goes into JSON sent to a service', () => {
    const marked = Object.freeze(withSecondStep(actor(), true));
    const copy = { ...marked };
    expect(passedSecondStep(copy)).toBe(true);
    expect(JSON.parse(JSON.stringify({ actor: copy }))).toEqual({ actor: actor() });
  });
});
