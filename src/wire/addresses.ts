// A conversation lists an address once per direction: the database holds it
// to that (unique index on conversation, direction, email), so every list of
// addresses is de-duplicated here before it is stored or shown, whether it
// came from a mail's headers or from an API request.

/** The list with each (direction, email) kept at its first place only; emails compare as given (both writers lower-case them). */
export function uniqueAddresses<T extends { readonly direction: number; readonly email: string }>(addresses: readonly T[]): T[] {
  const seen = new Set<string>();
  return addresses.filter((address) => {
    const key = `${address.direction}\u0000${address.email}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
