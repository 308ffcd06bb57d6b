import { parseOutboxArguments } from './arguments.js';

const ID = '6f1c2d3e-4b5a-4c6d-8e7f-a0b1c2d3e4f5';
const OTHER = '7a1c2d3e-4b5a-4c6d-8e7f-a0b1c2d3e4f5';

describe('the outbox command line', () => {
  it.each([
    [['--service', 'identity'], { help: false, service: 'identity', action: 'list' }],
    [['--service', 'access', '--redrive', '--all'], { help: false, service: 'access', action: 'redrive', ids: 'all' }],
    [
      ['--service', 'identity', '--redrive', '--id', ID, '--id', ID.toUpperCase(), '--id', OTHER],
      { help: false, service: 'identity', action: 'redrive', ids: [ID, OTHER] },
    ],
    [['--service', 'access', '--discard', '--id', ID], { help: false, service: 'access', action: 'discard', ids: [ID] }],
    [['--help'], { help: true }],
  ])('reads %j', (argv, request) => {
    expect(parseOutboxArguments(argv)).toEqual(request);
  });

  it.each([
    [[], '--service is required: identity or access'],
    [['--service', 'notifications'], '--service is required: identity or access'],
    [['--service', 'identity', '--redrive'], '--redrive needs --id <event id> (repeatable) or --all'],
    [['--service', 'identity', '--redrive', '--all', '--id', ID], 'give --id or --all, not both'],
    [['--service', 'identity', '--discard'], '--discard needs --id <event id> (repeatable)'],
    [['--service', 'identity', '--discard', '--all'], '--discard takes --id only: each event given up is named'],
    [['--service', 'identity', '--redrive', '--discard', '--id', ID], 'give --redrive or --discard, not both'],
    [['--service', 'identity', '--id', ID], '--id and --all go with --redrive or --discard'],
    [['--service', 'identity', '--redrive', '--id', 'row-7'], '--id "row-7" is not an event id (a UUID, as the list shows it)'],
  ])('refuses %j naming the problem', (argv, problem) => {
    expect(() => parseOutboxArguments(argv)).toThrow(expect.objectContaining({ problems: expect.arrayContaining([problem]) }));
  });

  it('refuses an option it does not know', () => {
    expect(() => parseOutboxArguments(['--service', 'identity', '--force'])).toThrow(expect.objectContaining({ name: 'BadInput' }));
  });
});
