import { ApiProperty, PickType } from '@nestjs/swagger';
import { describeApiWith, type ApiDescriber } from '#libs/contracts/api-docs.js';

// The contracts describe their properties for /openapi.json with @nestjs/swagger's decorators here
// only (libs/contracts/api-docs.ts): imported by main.ts before anything that imports a contract.
// (swagger's PickType types its result more narrowly; the classes are the same.)
describeApiWith({ ApiProperty, PickType: PickType as ApiDescriber['PickType'] });
