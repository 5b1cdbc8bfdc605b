/** The Cloud Code upstream: client, quota provider, OAuth, credential import and error parsing. */
export * from './client';
export * from './credentials';
export * from './duration';
export * from './errors';
export * from './oauth';
export * from './provider';
export * from './schemas';
