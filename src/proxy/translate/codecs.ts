/** The codecs of a server: one per client format (see codec.ts for the interface). */
import { anthropicCodec } from './anthropic';
import type { CodecDeps } from './codec';
import { type SignatureStore, SignatureCache } from './common';
import { geminiCodec } from './gemini';
import { openAiCodec } from './openai';
import { responsesCodec } from './responses';

export interface CodecOptions {
  /** Wall-clock milliseconds, for OpenAI's `created` (inject the server's clock). */
  now: () => number;
  /** Shared thought-signature store; a bounded LRU is created when absent. */
  signatures?: SignatureStore;
  /** Debug log lines from the translators. */
  debug?: (line: string) => void;
}

export function createCodecs(opts: CodecOptions) {
  const deps: CodecDeps = {
    now: opts.now,
    signatures: opts.signatures ?? new SignatureCache(),
    debug: opts.debug,
  };
  return {
    signatures: deps.signatures,
    openai: openAiCodec(deps),
    anthropic: anthropicCodec(deps),
    gemini: geminiCodec(),
    responses: responsesCodec(deps),
  };
}
