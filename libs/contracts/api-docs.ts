import type { Type } from '@nestjs/common';
import { PickType as pickValidated } from '@nestjs/mapped-types';
import type { ApiPropertyOptions } from '@nestjs/swagger';

/**
 * The OpenAPI description of the contracts, written with @nestjs/swagger's decorators but carried
 * out only where it is read: the gateway, which serves /openapi.json, installs @nestjs/swagger's
 * own (`describeApiWith`) before any contract is defined; in identity, access and notifications
 * the decorators do nothing, and those services never load @nestjs/swagger (~0.35 s of CPU at each
 * start and 4-12 MiB of memory, a fifth of the modules a service loads). Validation and
 * transformation metadata (class-validator, class-transformer) are everywhere, as before.
 */
export interface ApiDescriber {
  ApiProperty(options?: ApiPropertyOptions): PropertyDecorator;
  PickType: typeof pickValidated;
}

/** Where the contracts' descriptions go: nowhere until a describer is installed (in the gateway). */
export class ApiDescription {
  private describer: ApiDescriber | undefined;
  /** Properties defined while nothing described them (every one, in a service). */
  private undescribed = 0;

  /**
   * Describes every contract defined from now on with `real` (@nestjs/swagger's decorators). Throws
   * if a contract was defined before: its description would be missing from /openapi.json, so the
   * gateway must import the module that calls this before anything that imports a contract.
   */
  describeWith(real: ApiDescriber): void {
    if (this.undescribed > 0)
      throw new Error(`Contract properties were defined before the API description was installed (${this.undescribed}): import it before any contract`);
    this.describer = real;
  }

  /** Whether a describer is installed (the gateway checks before it serves /openapi.json). */
  get installed(): boolean {
    return this.describer !== undefined;
  }

  /** @nestjs/swagger's `ApiProperty`, where the API is described. */
  property(options?: ApiPropertyOptions): PropertyDecorator {
    return (target, key) => {
      if (this.describer) this.describer.ApiProperty(options)(target, key);
      else this.undescribed += 1;
    };
  }

  /** A class of some of `classRef`'s properties, with their validation (and, where the API is described, their description). */
  pick<T, K extends keyof T>(classRef: Type<T>, keys: readonly K[]): Type<Pick<T, (typeof keys)[number]>> {
    return (this.describer?.PickType ?? pickValidated)(classRef, keys);
  }
}

/** The process's: what the contracts' decorators below use. */
const description = new ApiDescription();

/** Installs @nestjs/swagger's decorators for every contract defined from now on (see {@link ApiDescription.describeWith}). */
export function describeApiWith(real: ApiDescriber): void {
  description.describeWith(real);
}

/** Whether the contracts are described (see {@link describeApiWith}): else /openapi.json would list no property. */
export function apiDescriptionInstalled(): boolean {
  return description.installed;
}

/** @nestjs/swagger's `ApiProperty`, where the API is described (see {@link describeApiWith}). */
export function ApiProperty(options?: ApiPropertyOptions): PropertyDecorator {
  return description.property(options);
}

/** @nestjs/swagger's `ApiPropertyOptional`: {@link ApiProperty} with `required: false`. */
export function ApiPropertyOptional(options?: ApiPropertyOptions): PropertyDecorator {
  return description.property({ ...options, required: false } as ApiPropertyOptions);
}

/** A class of some of `classRef`'s properties, with their validation (and, where the API is described, their description). */
export function PickType<T, K extends keyof T>(classRef: Type<T>, keys: readonly K[]): Type<Pick<T, (typeof keys)[number]>> {
  return description.pick(classRef, keys);
}
