import { PickType } from '@nestjs/mapped-types';
import { IsString, validateSync } from 'class-validator';
import { plainToInstance } from 'class-transformer';
import { ApiDescription, type ApiDescriber } from './api-docs.js';

/** A describer that records what it is asked to describe, and picks with validation as the services do. */
function recording(): { describer: ApiDescriber; described: Array<{ key: string | symbol; options: unknown }> } {
  const described: Array<{ key: string | symbol; options: unknown }> = [];
  const describer: ApiDescriber = {
    ApiProperty: (options) => (_target, key) => void described.push({ key, options }),
    PickType,
  };
  return { describer, described };
}

describe('the API description of the contracts', () => {
  it('describes each property with the installed decorators, once installed', () => {
    const description = new ApiDescription();
    const { describer, described } = recording();
    expect(description.installed).toBe(false);
    description.describeWith(describer);
    expect(description.installed).toBe(true);
    class Body {
      @description.property({ description: 'a name' }) name: string;
      @description.property({ required: false }) note?: string;
    }
    expect(new Body()).toBeInstanceOf(Body);
    expect(described).toEqual([
      { key: 'name', options: { description: 'a name' } },
      { key: 'note', options: { required: false } },
    ]);
  });

  it('describes nothing without a describer (a service), and refuses one installed after a contract was defined', () => {
    const description = new ApiDescription();
    class Body {
      @description.property() name: string;
    }
    expect(new Body()).toBeInstanceOf(Body);
    expect(() => description.describeWith(recording().describer)).toThrow(/Contract properties were defined before the API description was installed \(1\)/);
  });

  it('picks properties with their validation, described or not', () => {
    const description = new ApiDescription();
    class Whole {
      @IsString() name: string;
      @IsString() other: string;
    }
    const Picked = description.pick(Whole, ['name'] as const);
    expect(validateSync(plainToInstance(Picked, { name: 7 })).map((error) => error.property)).toEqual(['name']);
    expect(validateSync(plainToInstance(Picked, { name: 'Ada' }))).toEqual([]);
  });
});
