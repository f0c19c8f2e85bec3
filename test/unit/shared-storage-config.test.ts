import { createDocumentStore } from '../../core/adapters/document-store.factory';
import { LocalDocumentStore } from '../../core/adapters/fs/document-store.local';
import { S3DocumentStore } from '../../core/adapters/s3/document-store.s3';
import { parseConfig } from '../../core/config';
import { parseSentinelUrl } from '../../core/domain/redis-url';

describe('DOCUMENTS_STORE', () => {
  it('is the local folder by default, and an S3 bucket when asked', () => {
    expect(createDocumentStore(parseConfig({}))).toBeInstanceOf(LocalDocumentStore);
    const store = createDocumentStore(
      parseConfig({ DOCUMENTS_STORE: 's3', S3_BUCKET: 'docs', S3_ENDPOINT: 'http://127.0.0.1:9000' }),
    );
    expect(store).toBeInstanceOf(S3DocumentStore);
    (store as S3DocumentStore).close();
  });

  it('refuses s3 without a bucket, half a key pair, an endpoint that is not a URL, an unknown store', () => {
    expect(() => parseConfig({ DOCUMENTS_STORE: 's3' })).toThrow(
      /S3_BUCKET: is required when DOCUMENTS_STORE=s3/,
    );
    expect(() =>
      parseConfig({ DOCUMENTS_STORE: 's3', S3_BUCKET: 'docs', S3_ACCESS_KEY_ID: 'only-this' }),
    ).toThrow(/S3_SECRET_ACCESS_KEY/);
    expect(() => parseConfig({ S3_ENDPOINT: 'localhost:9000' })).toThrow(/S3_ENDPOINT/);
    expect(() => parseConfig({ DOCUMENTS_STORE: 'gcs' })).toThrow(/DOCUMENTS_STORE/);
  });
});

describe('parseSentinelUrl', () => {
  it('reads sentinels (default port 26379), master name, db, credentials and TLS', () => {
    expect(
      parseSentinelUrl('redis+sentinel://user:p%40ss@10.0.0.1:26380,sentinel-b,[::1]:26381/mymaster/3'),
    ).toEqual({
      sentinels: [
        { host: '10.0.0.1', port: 26380 },
        { host: 'sentinel-b', port: 26379 },
        { host: '::1', port: 26381 },
      ],
      name: 'mymaster',
      db: 3,
      username: 'user',
      password: 'p@ss',
      tls: false,
    });
    expect(parseSentinelUrl('rediss+sentinel://h:1/m')).toMatchObject({
      tls: true,
      db: 0,
      sentinels: [{ host: 'h', port: 1 }],
    });
  });

  it('is null for a plain URL or a malformed one, which the config then refuses', () => {
    expect(parseSentinelUrl('redis://127.0.0.1:6379')).toBeNull();
    expect(parseSentinelUrl('redis+sentinel://h:26379')).toBeNull();
    expect(parseSentinelUrl('redis+sentinel://h:0/m')).toBeNull();
    expect(parseSentinelUrl('redis+sentinel://h:26379,/m')).toBeNull();
    expect(() => parseConfig({ REDIS_URL: 'redis+cluster://h:7000,h:7001' })).toThrow(/REDIS_URL/);
    expect(parseConfig({ REDIS_URL: 'redis://127.0.0.1:6379/1' }).REDIS_URL).toBe('redis://127.0.0.1:6379/1');
  });
});
