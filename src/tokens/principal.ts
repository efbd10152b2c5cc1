// Who is asking: the principal of an API token, as the API's auth resolves it
// and the services that act for a tenant take it. A leaf module so services
// need not import it from the API.

export type Role = 'USER' | 'ADMIN';

export interface Principal {
  tokenId: number;
  tenantId: number;
  tenantSlug: string;
  userId: number;
  role: Role;
}
