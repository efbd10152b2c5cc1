// MAILROOM_STORAGE_URL → where blobs live, as plain values (no SDK, no I/O), so
// the config schema can refuse a bad URL at start-up and the tests need no
// store. Messages name the variable but never echo the URL: it may hold a
// secret someone pasted into it.
import path from 'node:path';
import { MailroomError } from '../errors.js';

export interface FileLocation {
  readonly kind: 'file';
  readonly root: string;
}

export interface S3Location {
  readonly kind: 's3';
  readonly bucket: string;
  /** '' or segments without leading/trailing slash; keys become `<prefix>/sha256/ab/cd/<hex>`. */
  readonly prefix: string;
  readonly region: string;
  /** Another S3 API (MinIO, Ceph, R2, ...); null: AWS itself. */
  readonly endpoint: string | null;
  readonly forcePathStyle: boolean;
}

export type StorageLocation = FileLocation | S3Location;

const S3_PARAMETERS = new Set(['endpoint', 'region', 'force_path_style']);
/** Room left for `/sha256/ab/cd/<64 hex>` under S3's 1024-byte key limit, with margin. */
const MAX_PREFIX_BYTES = 900;

function invalid(message: string): MailroomError {
  return new MailroomError('CONFIG_INVALID', `MAILROOM_STORAGE_URL: ${message}`);
}

/**
 * `file://./relative` (against cwd), `file:///absolute`, or
 * `s3://bucket/optional/prefix?endpoint=...&region=...&force_path_style=...`.
 * `env` only supplies the default region (AWS_REGION).
 */
export function resolveStorageUrl(storageUrl: string, cwd: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): StorageLocation {
  if (storageUrl.startsWith('s3://')) return parseS3Url(storageUrl, env);
  if (!storageUrl.startsWith('file://')) throw invalid('must be a file:// or s3:// URL');
  // Not `new URL()`: WHATWG parsing turns `file://./data` into host "." and
  // drops the relative meaning the default value relies on.
  let rest = storageUrl.slice('file://'.length).split(/[?#]/, 1)[0] ?? '';
  if (rest.startsWith('localhost/')) rest = rest.slice('localhost'.length);
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    throw invalid('the path is not valid percent-encoding');
  }
  if (decoded === '' || decoded.includes('\0')) throw invalid('a file:// URL needs a directory path');
  const root = path.isAbsolute(decoded) ? path.normalize(decoded) : path.resolve(cwd, decoded);
  return { kind: 'file', root };
}

function parseS3Url(storageUrl: string, env: NodeJS.ProcessEnv): S3Location {
  // Checked on the raw text: a secret containing '/' would otherwise move the
  // '@' into the path, where URL parsing no longer sees user info.
  if ((storageUrl.split(/[?#]/, 1)[0] ?? '').includes('@')) {
    throw invalid(
      'an s3:// URL must not contain credentials (or "@"); give them as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or another source of the AWS SDK default chain',
    );
  }
  let url: URL;
  try {
    url = new URL(storageUrl);
  } catch {
    throw invalid('is not a valid s3://bucket/prefix URL');
  }
  if (url.port !== '') throw invalid('an s3:// URL names a bucket, not a host and port; give the server as ?endpoint=http://host:port');
  if (url.hash !== '') throw invalid('an s3:// URL takes no #fragment');
  const bucket = url.hostname;
  const problem = bucketProblem(bucket);
  if (problem) throw invalid(`the bucket name ${problem}`);

  const params = new Map<string, string>();
  for (const [name, value] of url.searchParams) {
    if (!S3_PARAMETERS.has(name)) throw invalid('an s3:// URL accepts only the parameters endpoint, region and force_path_style');
    if (params.has(name)) throw invalid(`the parameter ${name} is given more than once`);
    params.set(name, value);
  }
  const endpoint = parseEndpoint(params.get('endpoint'));
  const region = params.get('region') ?? (env.AWS_REGION || 'us-east-1');
  if (!/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/.test(region)) throw invalid('region must be a region name such as eu-west-1');
  const pathStyle = params.get('force_path_style');
  if (pathStyle !== undefined && pathStyle !== 'true' && pathStyle !== 'false') throw invalid('force_path_style must be true or false');
  const forcePathStyle = pathStyle === undefined ? endpoint !== null : pathStyle === 'true';
  return { kind: 's3', bucket, prefix: parsePrefix(url.pathname), region, endpoint, forcePathStyle };
}

/** S3's bucket naming rules (general purpose buckets); null when the name is fine. */
export function bucketProblem(bucket: string): string | null {
  if (bucket === '') return 'is missing (s3://bucket/prefix)';
  if (bucket.length < 3 || bucket.length > 63) return 'must be 3 to 63 characters long';
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(bucket)) {
    return 'may contain only lower-case letters, digits, dots and hyphens, and must begin and end with a letter or digit';
  }
  if (/\.\.|\.-|-\./.test(bucket)) return 'must not contain two adjacent periods or a period next to a hyphen';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(bucket)) return 'must not look like an IP address';
  if (/^(?:xn--|sthree-|amzn-s3-demo-)/.test(bucket) || /(?:-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(bucket)) {
    return 'uses a prefix or suffix S3 reserves';
  }
  return null;
}

function parseEndpoint(value: string | undefined): string | null {
  if (value === undefined) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('endpoint must be an http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('endpoint must be an http:// or https:// URL');
  if (url.username || url.password) throw invalid('endpoint must not contain credentials; give them as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  if (url.search || url.hash) throw invalid('endpoint must not have a query or fragment');
  return url.pathname === '/' ? url.origin : url.href.replace(/\/+$/, '');
}

function parsePrefix(pathname: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    throw invalid('the prefix is not valid percent-encoding');
  }
  const prefix = decoded.replace(/^\/+/, '').replace(/\/+$/, '');
  if (prefix === '') return '';
  if (prefix.split('/').some((s) => s === '' || s === '.' || s === '..') || /[\x00-\x1f\x7f\\]/.test(prefix)) {
    throw invalid('the prefix must be path segments without empty, "." or ".." parts, backslashes or control characters');
  }
  if (Buffer.byteLength(prefix) > MAX_PREFIX_BYTES) throw invalid(`the prefix must be at most ${MAX_PREFIX_BYTES} bytes`);
  return prefix;
}
