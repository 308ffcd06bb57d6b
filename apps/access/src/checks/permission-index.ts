import type { Catalog, Section, SectionScope } from '../catalog/catalog.js';

/** A set of (section, action) pairs as bits: one bit per pair of the catalogue. */
export type PermissionBits = Uint32Array;

/** Section -> actions, as the API shows grants. */
export type Grants = Record<string, string[]>;

/** Numbers every (section, action) pair of a catalogue, so permission sets are bit sets and checks are a few word operations. */
export class PermissionIndex {
  readonly words: number;
  /** Bits of every application-scoped (section, action). */
  readonly applicationScoped: PermissionBits;
  /** Every bit of the catalogue. */
  readonly all: PermissionBits;
  /** Section -> action -> bit (two lookups: no key string built per check). */
  private readonly bitByPair = new Map<string, Map<string, number>>();
  private readonly sections = new Map<string, Section>();
  private readonly pairs: Array<{ section: string; action: string }> = [];

  constructor(readonly catalog: Catalog) {
    for (const section of catalog.sections) {
      this.sections.set(section.key, section);
      for (const action of section.actions) {
        let actions = this.bitByPair.get(section.key);
        if (!actions) this.bitByPair.set(section.key, (actions = new Map<string, number>()));
        actions.set(action, this.pairs.length);
        this.pairs.push({ section: section.key, action });
      }
    }
    this.words = Math.max(1, Math.ceil(this.pairs.length / 32));
    this.applicationScoped = this.empty();
    this.all = this.empty();
    this.pairs.forEach(({ section }, bit) => {
      setBit(this.all, bit);
      if (this.sections.get(section)!.scope === 'application') setBit(this.applicationScoped, bit);
    });
  }

  /** The bit of (section, action), or undefined when the catalogue has no such pair. */
  bit(section: string, action: string): number | undefined {
    return this.bitByPair.get(section)?.get(action);
  }

  /** The scope of a section, or undefined when unknown. */
  scopeOf(section: string): SectionScope | undefined {
    return this.sections.get(section)?.scope;
  }

  /** A new empty set. */
  empty(): PermissionBits {
    return new Uint32Array(this.words);
  }

  /** Grants -> bits. Unknown pairs are reported through `onUnknown` and left out. */
  encode(grants: Grants, onUnknown: (section: string, action: string) => void = () => undefined): PermissionBits {
    const bits = this.empty();
    for (const [section, actions] of Object.entries(grants)) {
      for (const action of actions) {
        const bit = this.bit(section, action);
        if (bit === undefined) onUnknown(section, action);
        else setBit(bits, bit);
      }
    }
    return bits;
  }

  /** Bits -> grants, in catalogue order. */
  decode(bits: PermissionBits): Grants {
    const grants: Grants = {};
    this.pairs.forEach(({ section, action }, bit) => {
      if (hasBit(bits, bit)) (grants[section] ??= []).push(action);
    });
    return grants;
  }
}

/** Sets one bit. */
export function setBit(bits: PermissionBits, bit: number): void {
  bits[bit >>> 5] |= 1 << (bit & 31);
}

/** Whether one bit is set. */
export function hasBit(bits: PermissionBits | undefined, bit: number): boolean {
  return bits !== undefined && (bits[bit >>> 5] & (1 << (bit & 31))) !== 0;
}

/** `target |= source`. */
export function orInto(target: PermissionBits, source: PermissionBits): void {
  for (let i = 0; i < target.length; i += 1) target[i] |= source[i];
}

/** `a & b` as a new set. */
export function and(a: PermissionBits, b: PermissionBits): PermissionBits {
  const result = new Uint32Array(a.length);
  for (let i = 0; i < a.length; i += 1) result[i] = a[i] & b[i];
  return result;
}

/** `a | b` as a new set. */
export function or(a: PermissionBits, b: PermissionBits | undefined): PermissionBits {
  const result = Uint32Array.from(a);
  if (b) orInto(result, b);
  return result;
}

/** Whether every bit of `subset` is in `superset`. */
export function isSubset(subset: PermissionBits, superset: PermissionBits): boolean {
  for (let i = 0; i < subset.length; i += 1) if ((subset[i] & ~superset[i]) !== 0) return false;
  return true;
}

/** Whether both hold the same bits. */
export function sameBits(a: PermissionBits, b: PermissionBits): boolean {
  return isSubset(a, b) && isSubset(b, a);
}

/** Whether no bit is set. */
export function isEmpty(bits: PermissionBits): boolean {
  return bits.every((word) => word === 0);
}
