import { BadInput } from '../command-line.js';
import { parseBootstrapArguments, withOption } from './arguments.js';

const valid = [
  '--name',
  'Acme Voice',
  '--slug',
  'acme-voice',
  '--email',
  'ada@example.com',
  '--first-name',
  'Ada',
  '--last-name',
  'Lovelace',
  '--phone',
  '+447700900123',
];

/** The problems `argv` is refused with. */
async function problems(argv: string[]): Promise<string[]> {
  const error: unknown = await parseBootstrapArguments(argv).catch((caught: unknown) => caught);
  if (!(error instanceof BadInput)) throw new Error(`accepted: ${JSON.stringify(argv)}`);
  return error.problems;
}

describe('the bootstrap command line', () => {
  it('makes the sign-up body of POST /v1/accounts', async () => {
    await expect(parseBootstrapArguments(valid)).resolves.toEqual({
      help: false,
      body: { name: 'Acme Voice', slug: 'acme-voice', owner: { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', phone: '+447700900123' } },
    });
  });

  it("takes the account's language with --locale, which may be left out, and refuses one that is not a language tag", async () => {
    await expect(parseBootstrapArguments([...valid, '--locale', 'fr-CA'])).resolves.toMatchObject({ body: { locale: 'fr-CA' } });
    expect(((await parseBootstrapArguments(valid)) as { body: object }).body).not.toHaveProperty('locale');
    expect(await problems([...valid, '--locale', 'French'])).toEqual(['locale must be a language tag such as en, fr or fr-CA (--locale)']);
  });

  it('asks for the usage with --help or -h, whatever else is given', async () => {
    await expect(parseBootstrapArguments(['--help'])).resolves.toEqual({ help: true });
    await expect(parseBootstrapArguments(['-h', '--name', 'x'])).resolves.toEqual({ help: true });
  });

  it('names every missing option with its field', async () => {
    expect(await problems(['--name', 'Acme', '--slug', 'acme'])).toEqual([
      expect.stringMatching(/^--email is required \(owner\.email:/),
      expect.stringMatching(/^--first-name is required \(owner\.firstName:/),
      expect.stringMatching(/^--last-name is required \(owner\.lastName:/),
      expect.stringMatching(/^--phone is required \(owner\.phone:/),
    ]);
  });

  it.each([
    [['--role', 'Admin'], /^Unknown option '--role'/],
    [['--name'], /^Option '--name <value>' argument missing/],
    [['positional'], /^Unexpected argument 'positional'/],
  ])('refuses a malformed command line (%j)', async (extra, message) => {
    const [problem] = await problems([...valid, ...extra]);
    expect(problem).toMatch(message);
  });

  it('validates with the rules of sign-up, each problem naming its field and option', async () => {
    const bad = [...valid, '--slug', 'Acme-', '--phone', '123', '--email', 'not-an-address', '--name', ''];
    expect((await problems(bad)).sort()).toEqual(
      [
        'name must be 1 to 100 characters (--name)',
        'owner.email must be an e-mail address (--email)',
        'owner.phone must be in international format, e.g. +447700900123 (--phone)',
        'slug may hold only lower-case letters, digits and dashes (--slug)',
      ].sort(),
    );
  });

  it.each([
    ['owner.firstName must be a string', 'owner.firstName must be a string (--first-name)'],
    ['field owner.lastName should not exist', 'field owner.lastName should not exist (--last-name)'],
    ['owner.email: a message worded otherwise', 'owner.email: a message worded otherwise (--email)'],
    ['name must be a string', 'name must be a string (--name)'],
    ['owner.names must be a string', 'owner.names must be a string'],
    ['something else', 'something else'],
  ])('adds the option to "%s"', (problem, expected) => {
    expect(withOption(problem)).toBe(expected);
  });
});
