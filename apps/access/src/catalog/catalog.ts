import { LineCounter, parseDocument, isMap, isScalar, isSeq, type Node, type Document } from 'yaml';
import { SYSTEM_PERMISSIONS, type SystemPermission } from '#libs/contracts/index.js';

/** Where a section applies: the whole account, or inside one application. */
export type SectionScope = 'account' | 'application';

/** A part of the panel and what can be done on it. */
export interface Section {
  key: string;
  label: string;
  scope: SectionScope;
  actions: string[];
}

/** A built-in role: section -> actions. */
export interface CatalogRole {
  name: string;
  grants: Record<string, string[]>;
}

/** How one of Portico's own permissions is decided in this catalogue. */
export type SystemRule = { kind: 'grant'; section: string; action: string } | { kind: 'member' } | { kind: 'owner' };

/** A validated catalogue: the panel's sections, built-in roles, and the map of Portico's own permissions. */
export interface Catalog {
  name: string;
  actions: string[];
  ownerRole: string;
  sections: Section[];
  roles: CatalogRole[];
  system: Record<SystemPermission, SystemRule>;
}

/** A broken catalogue file: every problem with its line and field. */
export class CatalogError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`Invalid access catalogue ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'CatalogError';
  }
}

const KEY = /^[a-z][a-z0-9_]*$/;

/** Parses and validates a catalogue file's text. Throws {@link CatalogError} listing every problem. */
export function parseCatalog(text: string, source: string): Catalog {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines });
  const problems: string[] = document.errors.map((error) => `line ${error.linePos?.[0].line ?? '?'}: ${error.message.split('\n')[0]}`);
  if (problems.length > 0) throw new CatalogError(source, problems);
  const reader = new Reader(document, lines, problems);
  const catalog = reader.catalog();
  if (problems.length > 0) throw new CatalogError(source, problems);
  return catalog;
}

/** Walks the YAML, collecting problems as `line N, path: message`. */
/** The keys of a catalogue file's top level. */
const TOP_LEVEL_KEYS = ['name', 'description', 'actions', 'roles', 'ownerRole', 'system', 'sections'] as const;
/** The keys of a section (`note` and `source` are free text for people, ignored). */
const SECTION_KEYS = ['key', 'label', 'scope', 'actions', 'roles', 'grants', 'note', 'source'] as const;

class Reader {
  constructor(
    private readonly document: Document,
    private readonly lines: LineCounter,
    private readonly problems: string[],
  ) {}

  catalog(): Catalog {
    this.knownKeys([], TOP_LEVEL_KEYS);
    const name = this.text(['name']);
    const actions = this.words(['actions']);
    const roleNames = this.words(['roles']);
    const ownerRole = this.text(['ownerRole']);
    const sections = this.sections(actions, roleNames);
    const roles = this.roles(roleNames, sections);
    const system = this.system(sections);
    return { name, actions, ownerRole, sections, roles, system };
  }

  private sections(actions: string[], roleNames: string[]): Section[] {
    const node = this.document.getIn(['sections'], true) as Node | undefined;
    if (!isSeq(node)) {
      this.problem(['sections'], 'must be a list of sections');
      return [];
    }
    const seen = new Set<string>();
    return node.items.map((_item, index) => {
      const path = ['sections', index];
      this.knownKeys(path, SECTION_KEYS);
      const key = this.text([...path, 'key']);
      if (key && !KEY.test(key)) this.problem([...path, 'key'], `"${key}" must be lower-case letters, digits and underscores`);
      if (seen.has(key)) this.problem([...path, 'key'], `"${key}" appears twice`);
      seen.add(key);
      const scope = (this.optional([...path, 'scope']) ?? 'account') as SectionScope;
      if (scope !== 'account' && scope !== 'application') this.problem([...path, 'scope'], `must be account or application, got "${String(scope)}"`);
      const sectionActions = this.sectionActions(path, actions);
      this.checkGrants(path, roleNames, sectionActions);
      return { key, label: this.optional([...path, 'label']) ?? key, scope, actions: sectionActions };
    });
  }

  /** A section's actions: its own list, else the union of what its grants name, else every catalogue action. */
  private sectionActions(path: (string | number)[], actions: string[]): string[] {
    const own = this.document.getIn([...path, 'actions']);
    const grants = this.document.getIn([...path, 'grants']);
    let result = actions;
    if (own !== undefined) result = this.words([...path, 'actions']);
    else if (grants !== undefined && isMap(this.document.getIn([...path, 'grants'], true))) {
      const json = (this.document.getIn([...path, 'grants'], true) as Node).toJSON() as Record<string, unknown>;
      result = [...new Set(Object.values(json).flatMap((value) => (Array.isArray(value) ? value.map(String) : [])))];
    }
    for (const action of result)
      if (!actions.includes(action)) this.problem([...path, 'actions'], `unknown action "${action}" (catalogue actions: ${actions.join(', ')})`);
    return actions.filter((action) => result.includes(action));
  }

  private checkGrants(path: (string | number)[], roleNames: string[], sectionActions: string[]): void {
    for (const role of this.optionalWords([...path, 'roles'])) if (!roleNames.includes(role)) this.problem([...path, 'roles'], `unknown role "${role}"`);
    const grants = this.document.getIn([...path, 'grants'], true) as Node | undefined;
    if (grants === undefined) return;
    if (!isMap(grants)) return this.problem([...path, 'grants'], 'must map role names to lists of actions');
    for (const [role, actions] of Object.entries(grants.toJSON() as Record<string, unknown>)) {
      if (!roleNames.includes(role)) this.problem([...path, 'grants', role], `unknown role "${role}"`);
      if (!Array.isArray(actions)) this.problem([...path, 'grants', role], 'must be a list of actions');
      else
        for (const action of actions)
          if (!sectionActions.includes(String(action))) this.problem([...path, 'grants', role], `action "${String(action)}" is not an action of this section`);
    }
  }

  private roles(roleNames: string[], sections: Section[]): CatalogRole[] {
    return roleNames.map((name) => {
      const grants: Record<string, string[]> = {};
      sections.forEach((section, index) => {
        const byList = this.optionalWords(['sections', index, 'roles']).includes(name);
        const byMap = (this.document.getIn(['sections', index, 'grants', name], true) as Node | undefined)?.toJSON() as unknown;
        const actions = byList ? section.actions : Array.isArray(byMap) ? (byMap as unknown[]).map(String) : [];
        if (actions.length > 0) grants[section.key] = actions;
      });
      return { name, grants };
    });
  }

  private system(sections: Section[]): Record<SystemPermission, SystemRule> {
    const result = {} as Record<SystemPermission, SystemRule>;
    for (const permission of Object.keys(SYSTEM_PERMISSIONS) as SystemPermission[]) {
      const path = ['system', permission];
      const value = this.optional(path);
      if (value === undefined) {
        this.problem(path, `is missing (every Portico permission must be mapped: ${Object.keys(SYSTEM_PERMISSIONS).join(', ')})`);
        continue;
      }
      result[permission] = this.systemRule(path, value, sections);
    }
    const extra = Object.keys(((this.document.getIn(['system'], true) as Node | undefined)?.toJSON() as object | undefined) ?? {}).filter(
      (key) => !(key in SYSTEM_PERMISSIONS),
    );
    for (const key of extra) this.problem(['system', key], 'is not a Portico permission');
    return result;
  }

  private systemRule(path: (string | number)[], value: string, sections: Section[]): SystemRule {
    if (value === 'member' || value === 'owner') return { kind: value };
    const parts = value.split(':');
    const [sectionKey, action] = parts;
    const section = sections.find((candidate) => candidate.key === sectionKey);
    if (parts.length !== 2 || !section || !action || !section.actions.includes(action)) {
      this.problem(path, `"${value}" is not member, owner or an existing section:action`);
      return { kind: 'owner' };
    }
    if (section.scope !== 'account') this.problem(path, `"${value}" must name an account-scoped section`);
    return { kind: 'grant', section: sectionKey, action };
  }

  private text(path: (string | number)[]): string {
    const value = this.optional(path);
    if (value === undefined) this.problem(path, 'is required');
    return value ?? '';
  }

  private optional(path: (string | number)[]): string | undefined {
    const value = this.document.getIn(path);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      this.problem(path, 'must be text');
      return undefined;
    }
    return value;
  }

  private words(path: (string | number)[]): string[] {
    const node = this.document.getIn(path, true) as Node | undefined;
    if (!isSeq(node)) {
      this.problem(path, 'must be a list');
      return [];
    }
    return this.optionalWords(path);
  }

  /** A list of words if present (a problem if it is anything else, or names a word twice); none if absent. */
  private optionalWords(path: (string | number)[]): string[] {
    const node = this.document.getIn(path, true) as Node | undefined;
    // An empty key (`roles:` with nothing after it) means none, as it always did.
    if (node === undefined || node === null || (isScalar(node) && node.value === null)) return [];
    if (!isSeq(node)) {
      this.problem(path, 'must be a list');
      return [];
    }
    const words = node.toJSON().map(String);
    const twice = words.filter((word, index) => words.indexOf(word) !== index);
    if (twice.length > 0) this.problem(path, `names ${[...new Set(twice)].map((word) => `"${word}"`).join(', ')} twice`);
    return [...new Set(words)];
  }

  /** Reports keys of the map at `path` that the format does not know (a typo would otherwise be ignored). */
  private knownKeys(path: (string | number)[], known: readonly string[]): void {
    const node = (path.length === 0 ? this.document.contents : this.document.getIn(path, true)) as Node | undefined | null;
    if (!isMap(node)) return;
    for (const item of node.items) {
      const key = isScalar(item.key) ? String(item.key.value) : String(item.key);
      if (!known.includes(key)) this.problem([...path, key], `unknown key "${key}" (known: ${known.join(', ')})`);
    }
  }

  private problem(path: (string | number)[], message: string): void {
    const node = this.nearestNode(path);
    const line = node?.range ? `line ${this.lines.linePos(node.range[0]).line}, ` : '';
    const problem = `${line}${path.join('.')}: ${message}`;
    if (!this.problems.includes(problem)) this.problems.push(problem);
  }

  private nearestNode(path: (string | number)[]): Node | undefined {
    for (let length = path.length; length > 0; length -= 1) {
      const node = this.document.getIn(path.slice(0, length), true) as Node | undefined;
      if (node && typeof node === 'object' && 'range' in node) return node;
    }
    return undefined;
  }
}
