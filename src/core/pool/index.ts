export * from './accountPool';
export * from './lruTtlMap';
