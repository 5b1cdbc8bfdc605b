/** The quota engine's public surface: import from here rather than from individual files. */
export * from './types';
export * from './clock';
export * from './errors';
export * from './provider';
export * from './catalog';
export * from './decision';
export * from './cache';
export * from './accountRegistry';
export * from './quotaManager';
export * from './prioritizer';
export * from './monitor';
export * from './stateStore';
