// Which database errors are the database's trouble (retry later) rather than
// the data's: Prisma's connection, pool and transaction codes, PostgreSQL's
// SQLSTATEs for the same, wherever in the cause chain they sit.
import { describe, expect, it } from 'vitest';
import { isLockConflict, isTransientDbError, isUniqueViolation } from '../../../src/db/errors.js';

describe('database error meaning', () => {
  it('knows a unique violation', () => {
    expect(isUniqueViolation({ code: 'P2002' })).toBe(true);
    expect(isUniqueViolation({ code: 'P2025' })).toBe(false);
    expect(isUniqueViolation(null)).toBe(false);
  });

  it('treats pool and transaction timeouts, deadlocks and lost connections as transient', () => {
    for (const code of ['P1001', 'P1017', 'P2024', 'P2028', 'P2034']) expect(isTransientDbError({ code })).toBe(true);
    expect(isTransientDbError({ code: 'P2010', meta: { driverAdapterError: { cause: { originalCode: '40P01' } } } })).toBe(true);
    expect(isTransientDbError(Object.assign(new Error('canceling statement due to statement timeout'), { cause: { code: '57014' } }))).toBe(true);
    expect(isTransientDbError({ cause: { code: '53300' } })).toBe(true);
    expect(isTransientDbError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(true);
  });

  it('treats a raw statement that lost its connection as transient (P2010 with only a driver error kind)', () => {
    // As Prisma 7 reports a $queryRaw whose connection was reset mid-statement.
    const closed = { name: 'PrismaClientKnownRequestError', code: 'P2010', meta: { driverAdapterError: { name: 'DriverAdapterError', cause: { kind: 'ConnectionClosed' } } } };
    expect(isTransientDbError(closed)).toBe(true);
    for (const kind of ['DatabaseNotReachable', 'SocketTimeout', 'TooManyConnections']) {
      expect(isTransientDbError({ code: 'P2010', meta: { driverAdapterError: { cause: { kind } } } })).toBe(true);
    }
    // A raw statement that failed on the data stays the data's.
    expect(isTransientDbError({ code: 'P2010', meta: { driverAdapterError: { cause: { kind: 'NullConstraintViolation', originalCode: '23502' } } } })).toBe(false);
    expect(isUniqueViolation({ code: 'P2010', meta: { driverAdapterError: { cause: { kind: 'UniqueConstraintViolation', originalCode: '23505' } } } })).toBe(true);
  });

  it('tells two transactions in each other\'s way (deadlock, serialization, a lock wait given up) from the rest', () => {
    expect(isLockConflict({ code: 'P2010', meta: { driverAdapterError: { cause: { originalCode: '40P01' } } } })).toBe(true);
    expect(isLockConflict({ code: 'P2010', meta: { driverAdapterError: { cause: { originalCode: '55P03' } } } })).toBe(true);
    for (const code of ['P2034', '40001']) expect(isLockConflict({ code })).toBe(true);
    for (const code of ['P1001', '57014', '23505', '08006']) expect(isLockConflict({ code })).toBe(false);
  });

  it('does not excuse errors about the data', () => {
    for (const code of ['P2002', 'P2003', 'P2000', '22021', '23505']) expect(isTransientDbError({ code })).toBe(false);
    expect(isTransientDbError(new Error('disk on fire'))).toBe(false);
    const loop: { cause?: unknown } = {};
    loop.cause = loop;
    expect(isTransientDbError(loop)).toBe(false);
  });
});
