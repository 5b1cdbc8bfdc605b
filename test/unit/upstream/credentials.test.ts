import { describe, expect, it } from 'vitest';
import { CredentialsImportError, parseCredentialsFile } from '../../../src/upstream/cloudcode/credentials';
import { fixtureText } from './fixtures';

const client = { clientId: 'my-client.apps.example', clientSecret: 'shh' };

function importError(text: string, options = {}): string {
  try {
    parseCredentialsFile(text, options);
  } catch (e) {
    expect(e).toBeInstanceOf(CredentialsImportError);
    return (e as Error).message;
  }
  throw new Error('expected an import error');
}

describe('parseCredentialsFile', () => {
  it("imports gemini-cli's oauth_creds.json with a supplied client, email from the id_token", () => {
    const [c] = parseCredentialsFile(fixtureText('gemini-cli-oauth-creds.json'), client);
    expect(c).toEqual({
      source: 'gemini-cli',
      refreshToken: '1//fixture-refresh',
      accessToken: 'ya29.fixture-access',
      expiresAt: 1_767_603_600_000,
      email: 'ada@example.com',
      clientId: 'my-client.apps.example',
      clientSecret: 'shh',
    });
  });

  it('prefers a client named in the file', () => {
    const text = JSON.stringify({
      ...JSON.parse(fixtureText('gemini-cli-oauth-creds.json')),
      client_id: 'file-client',
    });
    expect(parseCredentialsFile(text, client)[0]).toMatchObject({ clientId: 'file-client' });
    expect(parseCredentialsFile(text, client)[0]?.clientSecret).toBeUndefined();
  });

  it('imports an Antigravity-Manager account file (expiry in seconds, project id)', () => {
    const [c] = parseCredentialsFile(fixtureText('antigravity-manager-account.json'), client);
    expect(c).toEqual({
      source: 'antigravity-manager',
      refreshToken: '1//fixture-am-refresh',
      accessToken: 'ya29.fixture-am-access',
      expiresAt: 1_767_603_600_000,
      email: 'grace@example.com',
      projectId: 'bright-owl-7k2d',
      clientId: 'my-client.apps.example',
      clientSecret: 'shh',
    });
  });

  it('imports plain records and lists of them', () => {
    const text = JSON.stringify({
      accounts: [
        { email: 'a@example.com', refresh_token: 'r1', client_id: 'c1', client_secret: 's1' },
        { email: 'b@example.com', refreshToken: 'r2', clientId: 'c2' },
      ],
    });
    expect(parseCredentialsFile(text)).toEqual([
      { source: 'plain', email: 'a@example.com', refreshToken: 'r1', clientId: 'c1', clientSecret: 's1' },
      { source: 'plain', email: 'b@example.com', refreshToken: 'r2', clientId: 'c2' },
    ]);
  });

  it('says what is wrong with each bad shape, without echoing secrets', () => {
    expect(importError('not json {')).toMatch(/not JSON/);
    expect(importError(JSON.stringify({ access_token: 'ya29.secret', expiry_date: 1 }), client)).toMatch(
      /only an access token/,
    );
    expect(importError(JSON.stringify({ email: 'x@example.com' }), client)).toMatch(/no refresh token/);
    const noClient = importError(fixtureText('gemini-cli-oauth-creds.json'));
    expect(noClient).toMatch(/no OAuth client id/);
    expect(noClient).not.toContain('fixture-refresh');
    expect(importError('[]')).toMatch(/no accounts/);
    expect(importError('"hello"')).toMatch(/expected an object/);
    const badField = importError(
      JSON.stringify({ refresh_token: 'r', expiry_date: 'tomorrow', token_type: 'Bearer' }),
      client,
    );
    expect(badField).toMatch(/expiry_date/);
    expect(
      importError(JSON.stringify([{ refresh_token: 'r', client_id: 'c' }, { token: { access_token: 'a' } }])),
    ).toMatch(/account 2: the file holds only an access token/);
  });
});
