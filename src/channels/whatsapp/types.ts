/**
 * The shapes of the WhatsApp Cloud API (Graph API) that Aimak sends and receives: outgoing
 * message bodies (POST /{phone-number-id}/messages), errors, and webhook payloads.
 * Only the fields Aimak uses are typed; webhooks are parsed defensively (see inbound.ts).
 */

/** The limits Meta enforces on interactive messages (a request over them is refused). */
export const WA_LIMITS = {
  textLength: 4096,
  /** Body of an interactive message. */
  interactiveBody: 1024,
  replyButtons: 3,
  replyButtonTitle: 20,
  listRows: 10,
  listRowTitle: 24,
  listRowDescription: 72,
  listButton: 20,
  listSectionTitle: 24,
  ctaDisplayText: 20,
  /** Caption of an image or a document. */
  caption: 1024,
  /** The id of a reply button or a list row. */
  replyId: 256,
} as const;

export interface WaReplyButton {
  type: "reply";
  reply: { id: string; title: string };
}

export interface WaListRow {
  id: string;
  title: string;
  description?: string;
}

export type WaInteractive =
  | {
      type: "button";
      body: { text: string };
      action: { buttons: WaReplyButton[] };
    }
  | {
      type: "list";
      body: { text: string };
      action: { button: string; sections: { title?: string; rows: WaListRow[] }[] };
    }
  | {
      type: "cta_url";
      body: { text: string };
      action: { name: "cta_url"; parameters: { display_text: string; url: string } };
    };

/** A media object: an uploaded media id or a public https link. */
export type WaMedia = ({ id: string } | { link: string }) & { caption?: string };

export interface WaTemplateParameter {
  type: "text";
  text: string;
}

export interface WaTemplate {
  name: string;
  language: { code: string };
  components?: { type: "header" | "body"; parameters: WaTemplateParameter[] }[];
}

/** What goes to a person, without the addressing (`to` / `recipient`) and messaging_product. */
export type WaOutgoing =
  | { type: "text"; text: { body: string; preview_url?: boolean } }
  | { type: "interactive"; interactive: WaInteractive }
  | { type: "image"; image: WaMedia }
  | { type: "document"; document: WaMedia & { filename?: string } }
  | { type: "template"; template: WaTemplate };

/** The Graph API's error body: `{ error: { message, type, code, error_data?, fbtrace_id } }`. */
export interface WaErrorBody {
  error: {
    message: string;
    type?: string;
    code: number;
    error_subcode?: number;
    error_data?: { messaging_product?: string; details?: string };
    fbtrace_id?: string;
  };
}

/** A successful send: `{ messaging_product, contacts: [{ input, wa_id }], messages: [{ id }] }`. */
export interface WaSendResult {
  messaging_product: "whatsapp";
  contacts?: { input: string; wa_id?: string; user_id?: string }[];
  messages: { id: string; message_status?: string }[];
}

// ---- webhooks (object "whatsapp_business_account", field "messages") ----

export interface WaWebhookContact {
  profile?: { name?: string; username?: string };
  /** The phone number; Meta may leave it out for people who adopted a username. */
  wa_id?: string;
  /** The business-scoped user id (BSUID), e.g. "KG.1502576394655843". */
  user_id?: string;
}

export interface WaWebhookMessage {
  id: string;
  /** The sender's phone number (absent for username-only people). */
  from?: string;
  /** The sender's business-scoped user id. */
  from_user_id?: string;
  timestamp: string;
  type: string;
  text?: { body: string };
  interactive?: {
    type: "button_reply" | "list_reply" | string;
    button_reply?: { id: string; title: string };
    list_reply?: { id: string; title: string; description?: string };
  };
  /** A tap on a quick-reply button of a template. */
  button?: { payload: string; text: string };
  contacts?: {
    name?: { formatted_name?: string; first_name?: string };
    phones?: { phone?: string; wa_id?: string; type?: string }[];
  }[];
  /** The message this one answers (a button's message). */
  context?: { id?: string; from?: string };
}

export interface WaWebhookStatus {
  /** The wamid of our message. */
  id: string;
  status: "sent" | "delivered" | "read" | "failed" | string;
  timestamp: string;
  recipient_id?: string;
  recipient_user_id?: string;
  errors?: { code: number; title?: string; message?: string }[];
}

export interface WaWebhookValue {
  messaging_product?: string;
  metadata?: { display_phone_number?: string; phone_number_id?: string };
  contacts?: WaWebhookContact[];
  messages?: WaWebhookMessage[];
  statuses?: WaWebhookStatus[];
}

export interface WaWebhookBody {
  object: string;
  entry: { id: string; changes: { field: string; value: WaWebhookValue }[] }[];
}
