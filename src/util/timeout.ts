// The one way Mailroom bounds how long it waits for something it does not
// control (a DNS answer, a database ping, Redis): the promise, or the error
// `onTimeout` makes once `ms` have passed. The timer is cleared either way, so
// a settled wait never keeps the process alive.

export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
