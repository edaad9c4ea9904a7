import type { WaErrorBody, WaOutgoing, WaSendResult } from "./types";

/** Who a message goes to: the phone number (wa_id) when known, else the business-scoped id. */
export type WaAddress = { waId: string } | { bsuid: string };

/** An error the Graph API answered with (`error.code` is Meta's: 131047, 130429, …). */
export class WhatsAppApiError extends Error {
  constructor(
    readonly code: number,
    readonly httpStatus: number,
    message: string,
    readonly details?: string,
  ) {
    super(`WhatsApp ${code}: ${message}${details ? ` (${details})` : ""}`);
    this.name = "WhatsAppApiError";
  }
}

export interface WhatsAppClientOptions {
  apiRoot: string;
  phoneNumberId: string;
  accessToken: string;
  /** Per request; well under the delivery engine's lease. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** The two Graph API calls Aimak makes: send a message and upload a file. */
export class WhatsAppClient {
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;

  constructor(private readonly options: WhatsAppClientOptions) {
    this.fetch = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 20_000;
  }

  /** Sends one message; resolves with its wamid. */
  async send(to: WaAddress, message: WaOutgoing): Promise<string> {
    const body = {
      messaging_product: "whatsapp",
      recipient_type: "individual",
      ...("waId" in to ? { to: to.waId } : { recipient: to.bsuid }),
      ...message,
    };
    const result = (await this.request("messages", {
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    })) as WaSendResult;
    const wamid = result.messages?.[0]?.id;
    if (!wamid) throw new WhatsAppApiError(0, 200, "the answer names no message id");
    return wamid;
  }

  /** Uploads a file for image/document messages; resolves with its media id. */
  async upload(bytes: Uint8Array, mimeType: string, filename: string): Promise<string> {
    const form = new FormData();
    form.set("messaging_product", "whatsapp");
    form.set("type", mimeType);
    form.set("file", new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mimeType }), filename);
    const result = (await this.request("media", { body: form })) as { id?: string };
    if (!result.id) throw new WhatsAppApiError(0, 200, "the upload's answer names no media id");
    return result.id;
  }

  private async request(
    path: string,
    init: { headers?: Record<string, string>; body: string | FormData },
  ): Promise<unknown> {
    const { apiRoot, phoneNumberId, accessToken } = this.options;
    const response = await this.fetch(`${apiRoot}/${phoneNumberId}/${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${accessToken}`, ...init.headers },
      body: init.body,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (response.ok && json) return json;
    const error = (json as WaErrorBody | undefined)?.error;
    throw new WhatsAppApiError(
      error?.code ?? 0,
      response.status,
      error?.message ?? `HTTP ${response.status}`,
      error?.error_data?.details,
    );
  }
}
