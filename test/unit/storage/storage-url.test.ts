import { describe, expect, it } from 'vitest';
import { loadConfig, redactUrl } from '../../../src/config/config.js';
import { isMailroomError } from '../../../src/errors.js';
import { bucketProblem, resolveStorageUrl, type StorageLocation } from '../../../src/storage/storage-url.js';

const s3 = (url: string, env: NodeJS.ProcessEnv = {}): StorageLocation => resolveStorageUrl(url, '/srv', env);

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isMailroomError(err, 'CONFIG_INVALID')) return err.message;
    throw err;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('resolveStorageUrl: s3://', () => {
  it('reads bucket and prefix, with AWS defaults when no endpoint is given', () => {
    expect(s3('s3://mail-blobs')).toEqual({ kind: 's3', bucket: 'mail-blobs', prefix: '', region: 'us-east-1', endpoint: null, forcePathStyle: false });
    expect(s3('s3://mail-blobs/')).toMatchObject({ prefix: '' });
    expect(s3('s3://mail.blobs/tenants/acme/')).toMatchObject({ bucket: 'mail.blobs', prefix: 'tenants/acme' });
    expect(s3('s3://mail-blobs/with%20space/caf%C3%A9')).toMatchObject({ prefix: 'with space/café' });
  });

  it('takes the region from the URL, else AWS_REGION, else us-east-1', () => {
    expect(s3('s3://b1b/p?region=eu-west-3', { AWS_REGION: 'ap-south-1' })).toMatchObject({ region: 'eu-west-3' });
    expect(s3('s3://b1b/p', { AWS_REGION: 'ap-south-1' })).toMatchObject({ region: 'ap-south-1' });
    expect(s3('s3://b1b/p', { AWS_REGION: '' })).toMatchObject({ region: 'us-east-1' });
  });

  it('uses path-style addressing by default for another endpoint, unless told otherwise', () => {
    expect(s3('s3://blobs/p?endpoint=http://127.0.0.1:9000')).toMatchObject({ endpoint: 'http://127.0.0.1:9000', forcePathStyle: true });
    expect(s3('s3://blobs?endpoint=https%3A%2F%2Fs3.example.test%2F&force_path_style=false')).toMatchObject({
      endpoint: 'https://s3.example.test',
      forcePathStyle: false,
      prefix: '',
    });
    expect(s3('s3://blobs?endpoint=https://gw.example.test/s3/')).toMatchObject({ endpoint: 'https://gw.example.test/s3' });
    expect(s3('s3://blobs?force_path_style=true')).toMatchObject({ endpoint: null, forcePathStyle: true });
  });

  it('refuses credentials in the URL without echoing them', () => {
    for (const url of [
      's3://AKIAEXAMPLE:hunter2secret@bucket/prefix',
      's3://:hunter2secret@bucket',
      's3://AKIAEXAMPLE:hunter2/secret@bucket/prefix',
      's3://AKIAEXAMPLE:12/hunter2secret@bucket',
    ]) {
      const message = configError(() => s3(url));
      expect(message).toMatch(/^MAILROOM_STORAGE_URL: an s3:\/\/ URL must not contain credentials/);
      expect(message).not.toMatch(/hunter2|AKIAEXAMPLE/);
    }
    const endpoint = configError(() => s3('s3://bucket?endpoint=http://AKIAEXAMPLE:hunter2@127.0.0.1:9000'));
    expect(endpoint).toMatch(/^MAILROOM_STORAGE_URL: endpoint must not contain credentials/);
    expect(endpoint).not.toMatch(/hunter2|AKIAEXAMPLE/);
  });

  it('refuses bad bucket names, naming the variable but not the value', () => {
    for (const [url, why] of [
      ['s3:///prefix', /bucket name is missing/],
      ['s3://ab', /3 to 63 characters/],
      [`s3://${'a'.repeat(64)}`, /3 to 63 characters/],
      ['s3://Secret_Bucket', /lower-case letters/],
      ['s3://-bucket', /begin and end/],
      ['s3://my..bucket', /adjacent periods/],
      ['s3://my.-bucket', /period next to a hyphen/],
      ['s3://192.168.5.4', /IP address/],
      ['s3://xn--bucket', /reserves/],
      ['s3://bucket-s3alias', /reserves/],
    ] as const) {
      const message = configError(() => s3(url));
      expect(message).toMatch(/^MAILROOM_STORAGE_URL: /);
      expect(message).toMatch(why);
      const bucket = url.slice('s3://'.length).split('/')[0]!;
      if (bucket) expect(message).not.toContain(bucket);
    }
    expect(bucketProblem('my-bucket.v2')).toBeNull();
  });

  it('refuses ports, fragments, unknown or repeated parameters and bad values', () => {
    expect(configError(() => s3('s3://bucket:9000/p'))).toMatch(/\?endpoint=/);
    expect(configError(() => s3('s3://bucket/p#x'))).toMatch(/fragment/);
    expect(configError(() => s3('s3://bucket?forcePathStyle=true'))).toMatch(/only the parameters endpoint, region and force_path_style/);
    expect(configError(() => s3('s3://bucket?region=a&region=b'))).toMatch(/region is given more than once/);
    expect(configError(() => s3('s3://bucket?region=EU West'))).toMatch(/region must be/);
    expect(configError(() => s3('s3://bucket?force_path_style=yes'))).toMatch(/force_path_style must be true or false/);
    expect(configError(() => s3('s3://bucket?endpoint=ftp://127.0.0.1'))).toMatch(/endpoint must be an http/);
    expect(configError(() => s3('s3://bucket?endpoint=not a url'))).toMatch(/endpoint must be an http/);
    expect(configError(() => s3('s3://bucket?endpoint=http://h/?x=1'))).toMatch(/query or fragment/);
  });

  it('refuses prefixes that are not plain path segments', () => {
    expect(configError(() => s3('s3://bucket/a//b'))).toMatch(/prefix must be path segments/);
    expect(configError(() => s3('s3://bucket/a%2F%2Fb'))).toMatch(/prefix must be path segments/);
    expect(configError(() => s3('s3://bucket/a%5Cb'))).toMatch(/backslashes/);
    expect(configError(() => s3('s3://bucket/a%00b'))).toMatch(/control characters/);
    expect(configError(() => s3('s3://bucket/a%zz'))).toMatch(/percent-encoding/);
    expect(configError(() => s3(`s3://bucket/${'p'.repeat(901)}`))).toMatch(/at most 900 bytes/);
    // WHATWG parsing resolves dot segments before the prefix is read.
    expect(s3('s3://bucket/a/../b')).toMatchObject({ prefix: 'b' });
  });
});

describe('MAILROOM_STORAGE_URL in the config', () => {
  const KEY_HEX = 'ab'.repeat(32);
  const load = (url: string) => loadConfig({ MAILROOM_SECRET_KEY: KEY_HEX, MAILROOM_STORAGE_URL: url });

  it('accepts s3:// URLs the store accepts', () => {
    expect(load('s3://mail-blobs/prefix?endpoint=http://127.0.0.1:9000&region=eu-west-1').storageUrl).toBe(
      's3://mail-blobs/prefix?endpoint=http://127.0.0.1:9000&region=eu-west-1',
    );
  });

  it('refuses at start-up what the store would refuse, without echoing secrets', () => {
    const message = configError(() => load('s3://AKIAEXAMPLE:hunter2@mail-blobs/prefix'));
    expect(message).toMatch(/MAILROOM_STORAGE_URL is invalid: an s3:\/\/ URL must not contain credentials/);
    expect(message).not.toMatch(/hunter2|AKIAEXAMPLE/);
    expect(configError(() => load('s3://Bad_Bucket'))).toMatch(/MAILROOM_STORAGE_URL is invalid: the bucket name/);
    expect(configError(() => load('file://'))).toMatch(/MAILROOM_STORAGE_URL is invalid: a file:\/\/ URL needs a directory path/);
    expect(configError(() => load('ftp://x'))).toMatch(/MAILROOM_STORAGE_URL is invalid: must be a file:\/\/ or s3:\/\/ URL/);
  });

  it('redactUrl still hides a password in an s3:// URL for logs', () => {
    expect(redactUrl('s3://key:hunter2@bucket/prefix')).toBe('s3://key:***@bucket/prefix');
    expect(redactUrl('s3://bucket/prefix?endpoint=http://127.0.0.1:9000')).toBe('s3://bucket/prefix?endpoint=http://127.0.0.1:9000');
  });
});
