import { loadCatalog } from '../catalog/catalog.loader.js';
import { effectiveOf, type Effective } from './effective.js';
import { bindingChangeProblem, roleGrantProblem, roleHoldersProblem } from './escalation.js';
import { PermissionIndex } from './permission-index.js';

const index = new PermissionIndex(loadCatalog('voximplant'));
const role = (name: string) => index.encode(loadCatalog('voximplant').roles.find((r) => r.name === name)!.grants);
const rights = (...bindings: Array<[string, string[] | null]>): Effective =>
  effectiveOf(
    bindings.map(([name, applicationIds]) => ({ roleBits: role(name), applicationIds })),
    index,
  );

const actor = { type: 'subuser' as const, id: 'a' };
const target = { type: 'subuser' as const, id: 't' };

function problem(overrides: Partial<Parameters<typeof bindingChangeProblem>[0]>) {
  return bindingChangeProblem({
    actor,
    target,
    actorIsOwner: false,
    targetIsOwner: false,
    actorRights: rights(['Admin', null]),
    targetRights: undefined,
    proposedRights: rights(['Support', null]),
    ...overrides,
  });
}

describe('no escalation when changing bindings', () => {
  it.each([
    ['an Admin grants Support', {}, null],
    ['an Admin grants Developer limited to an application', { proposedRights: rights(['Developer', ['app-1']]) }, null],
    [
      'a Developer grants Admin',
      { actorRights: rights(['Developer', null]), proposedRights: rights(['Admin', null]) },
      'You cannot grant a permission you lack',
    ],
    [
      'a Developer of app-1 grants Developer everywhere',
      { actorRights: rights(['Developer', ['app-1']]), proposedRights: rights(['Developer', null]) },
      'You cannot grant a permission you lack',
    ],
    [
      'a Developer of app-1 grants Developer of app-1',
      { actorRights: rights(['Developer', ['app-1']]), proposedRights: rights(['Developer', ['app-1']]) },
      null,
    ],
    [
      'a Developer of app-1 grants Developer of app-2',
      { actorRights: rights(['Developer', ['app-1']]), proposedRights: rights(['Developer', ['app-2']]) },
      'You cannot grant a permission you lack',
    ],
    [
      'a Support edits an Admin',
      { actorRights: rights(['Support', null]), targetRights: rights(['Admin', null]), proposedRights: rights(['Support', null]) },
      'This person holds permissions you lack; you cannot change their roles',
    ],
    ['anyone changes their own roles', { target: actor }, 'Nobody may change their own roles'],
    ['the owner changes their own roles', { target: actor, actorIsOwner: true }, 'Nobody may change their own roles'],
    ['anyone touches the owner', { targetIsOwner: true }, 'The account owner holds every permission and cannot be changed'],
    ['the owner grants Admin', { actorIsOwner: true, actorRights: undefined, proposedRights: rights(['Admin', null]) }, null],
    ['a stranger grants anything', { actorRights: undefined }, 'You hold no role in this account'],
  ] as const)('%s', (_label, overrides, expected) => {
    expect(problem(overrides as Partial<Parameters<typeof bindingChangeProblem>[0]>)).toBe(expected);
  });
});

describe('no escalation when defining roles', () => {
  it('a holder of Developer may define a subset of it, not more', () => {
    expect(roleGrantProblem(false, rights(['Developer', null]), role('Accountant'))).not.toBeNull();
    expect(roleGrantProblem(false, rights(['Developer', null]), role('Support'))).toBeNull();
    expect(roleGrantProblem(false, rights(['Developer', null]), index.encode({ scenarios: ['read'] }))).toBeNull();
  });

  it('limited rights do not allow defining roles', () => {
    expect(roleGrantProblem(false, rights(['Developer', ['app-1']]), index.encode({ scenarios: ['read'] }))).not.toBeNull();
  });

  it('the owner may define anything', () => {
    expect(roleGrantProblem(true, undefined, index.all)).toBeNull();
  });
});

describe('no escalation when changing what a held role grants', () => {
  const lacking = 'Someone holding this role has permissions you lack; you cannot change what it grants';
  it.each([
    ['nobody holds it', rights(['Admin', null]), [], null],
    ['its holders hold no more than the actor', rights(['Admin', null]), [rights(['Support', null]), rights(['Developer', ['app-1']])], null],
    ['one holder holds more than the actor', rights(['Admin', null]), [rights(['Support', null]), rights(['MainAccount', null])], lacking],
    ['a holder has everywhere what the actor has in one application', rights(['Developer', ['app-1']]), [rights(['Developer', null])], lacking],
    ['a holder without rights left (unknown to the state)', rights(['Support', null]), [undefined], null],
    ['the actor holds no role', undefined, [], 'You hold no role in this account'],
  ] as const)('%s', (_label, actorRights, holderRights, expected) => {
    expect(roleHoldersProblem(false, actorRights, [...holderRights])).toBe(expected);
  });

  it('the owner may change any role', () => {
    expect(roleHoldersProblem(true, undefined, [rights(['MainAccount', null])])).toBeNull();
  });
});
