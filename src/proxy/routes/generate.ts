/**
 * The generation flow shared by every client format: parse → translate → backend → translate back,
 * whole or streamed. Before the first byte, errors propagate (the server answers them in the
 * client's format with the right status); after it, the stream ends with the codec's error event.
 */
import type { BackendCall } from '../backend';
import { describeError } from '../clientErrors';
import { ClientGoneError } from '../sse';
import type { ClientCodec } from '../translate/codec';
import { formatSse } from '../translate/common';
import type { RouteContext } from './context';

export interface GenerateOptions {
  /** The model named in the path (Gemini routes) instead of the body. */
  model?: string;
  /** The route decides streaming (Gemini routes) instead of the body. */
  stream?: boolean;
}

export async function handleGenerate<Req>(
  ctx: RouteContext,
  codec: ClientCodec<Req>,
  options: GenerateOptions = {},
): Promise<void> {
  const parsed = codec.parse(await ctx.json());
  const clientModel = options.model ?? codec.model(parsed);
  const model = ctx.mapModel(clientModel);
  ctx.log.model = model;
  const request = codec.toGemini(parsed);
  const stream = options.stream ?? codec.stream(parsed);
  ctx.log.stream = stream;
  const call: BackendCall = {
    model,
    request,
    sessionKey: codec.sessionKey(parsed, ctx.req.headers),
    signal: ctx.signal,
    reporter: ctx.reporter,
  };

  if (!stream) {
    const result = await ctx.backend.generate(call);
    ctx.sendJson(200, codec.fromGemini(result.response, clientModel, parsed));
    return;
  }

  // Resolves only once an upstream accepted the call: failures so far are still plain HTTP errors.
  const chunks = await ctx.backend.stream(call);
  const writer = ctx.sse();
  writer.open();
  ctx.markFirstByte();
  const encoder = codec.encoder(clientModel, parsed);
  try {
    for await (const chunk of chunks) {
      for (const ev of encoder.push(chunk)) await writer.write(formatSse(ev));
    }
    for (const ev of encoder.end()) await writer.write(formatSse(ev));
    writer.end();
  } catch (err) {
    // Leaving the for-await above already called the iterator's return(), so the backend can release.
    if (err instanceof ClientGoneError || writer.closed) {
      ctx.log.error = 'client-gone';
      return;
    }
    const { status, message } = describeError(ctx.signal.aborted ? ctx.signal.reason : err);
    ctx.log.error = `stream-${status}`;
    writer.end(
      encoder
        .error({ status, message })
        .map((ev) => formatSse(ev))
        .join(''),
    );
  }
}
