import { emailRobotId } from '../../activities/mailbox-monitor';
import { uuidV5 } from '../../core/adapters/crypto/uuid-v5';
import { ConfigError, parseConfig } from '../../core/config';
import { mailboxWorkflowId } from '../../core/domain/mailboxes';

const mailbox = { name: 'ap', host: 'imap.example.com', user: 'ap@example.com', password: 'pw' };
const parse = (value: unknown) =>
  parseConfig({ MAILBOXES: typeof value === 'string' ? value : JSON.stringify(value) }).MAILBOXES;

describe('MAILBOXES', () => {
  it('is empty when unset, and fills defaults', () => {
    expect(parseConfig({}).MAILBOXES).toEqual([]);
    expect(parse([mailbox])).toEqual([
      {
        ...mailbox,
        port: 993,
        secure: true,
        folder: 'INBOX',
        robotType: 'email-intake',
        processed: 'move',
        processedFolder: 'Processed',
        expectedHeartbeat: 86_400_000,
        pollInterval: 60_000,
        failuresBeforeAlert: 3,
      },
    ]);
    expect(mailboxWorkflowId('ap')).toBe('mailbox-ap');
  });

  it('takes a secret reference as the password, and durations', () => {
    const [parsed] = parse([
      { ...mailbox, password: { $secret: 'imap-ap' }, expectedHeartbeat: '2h', pollInterval: '30s' },
    ]);
    expect(parsed).toMatchObject({
      password: { $secret: 'imap-ap' },
      expectedHeartbeat: 7_200_000,
      pollInterval: 30_000,
    });
  });

  it.each([
    ['not JSON', '[{name:', /MAILBOXES: not JSON/],
    ['not an array', '{"name":"ap"}', /MAILBOXES: .*array/i],
    ['a missing host', [{ ...mailbox, host: undefined }], /MAILBOXES\.0\.host/],
    ['a bad name', [{ ...mailbox, name: 'AP box' }], /MAILBOXES\.0\.name: lowercase letters/],
    [
      'a bad duration',
      [{ ...mailbox, expectedHeartbeat: 'daily' }],
      /MAILBOXES\.0\.expectedHeartbeat: a duration like 24h/,
    ],
    [
      'a too short poll',
      [{ ...mailbox, pollInterval: '10ms' }],
      /MAILBOXES\.0\.pollInterval: must be between/,
    ],
    ['an unknown action', [{ ...mailbox, processed: 'delete' }], /MAILBOXES\.0\.processed/],
    ['an unknown field', [{ ...mailbox, pasword: 'x' }], /MAILBOXES\.0/],
    ['a name twice', [mailbox, mailbox], /MAILBOXES\.1\.name: mailbox "ap" twice/],
  ])('refuses %s with a clear error', (_what, value, message) => {
    expect(() => parse(value)).toThrow(ConfigError);
    expect(() => parse(value)).toThrow(message);
  });
});

describe('email robot ids', () => {
  it('are RFC 9562 UUID v5', () => {
    // The RFC's example: the DNS namespace and www.example.com.
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });

  it('come from mailbox and Message-ID when there is one, else from mailbox, UIDVALIDITY and UID', () => {
    const id = emailRobotId('<a@example.com>', 'ap', '1', 7);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // Another copy in the same mailbox (new UID after a move back, new UIDVALIDITY): the same robot.
    expect(emailRobotId('<a@example.com>', 'ap', '2', 9)).toBe(id);
    // The same message in another configured mailbox is that pipeline's robot.
    expect(emailRobotId('<a@example.com>', 'other', '1', 7)).not.toBe(id);
    expect(emailRobotId('<b@example.com>', 'ap', '1', 7)).not.toBe(id);
    const fallback = emailRobotId(undefined, 'ap', '1', 7);
    expect(emailRobotId('  ', 'ap', '1', 7)).toBe(fallback);
    expect(emailRobotId(undefined, 'ap', '1', 8)).not.toBe(fallback);
    expect(emailRobotId(undefined, 'ap', '2', 7)).not.toBe(fallback);
  });
});
