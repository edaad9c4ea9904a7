/**
 * A feature's refusals (FeatureError) in the chat: service calls inside a conversation, and the
 * refusal in the person's language, `<namespace>.errors.<code>`. Each feature makes its own set
 * with its error class and its locale namespace (featureRefusals("polls", PollError)).
 */
import type { FeatureError, FeatureErrorParams } from "../core/errors";
import type { TFunction } from "../i18n";

/**
 * What a write inside a flow returns: plain JSON, since a conversation stores the results of
 * its side effects and replays them (an Error or a Date would not come back as one).
 */
export type Outcome<T> =
  | { ok: true; value: T }
  | { ok: false; code: string; params: FeatureErrorParams };

export interface FeatureRefusals {
  /** Runs a service call; the feature's error becomes a refusal the flow can say, anything else throws. */
  attempt<T>(task: () => Promise<T>): Promise<Outcome<T>>;
  /** A refusal in the person's language (`<namespace>.errors.<code>`). */
  refusalText(t: TFunction, code: string, params?: FeatureErrorParams): string;
  /** The refusal of an error thrown by the service, or undefined when it is not the feature's. */
  refusalOf(t: TFunction, error: unknown): string | undefined;
}

export function featureRefusals(
  namespace: string,
  /** The feature's own subclass: another feature's refusals are not this one's to say. */
  errorClass: abstract new (...args: never[]) => FeatureError,
): FeatureRefusals {
  const refusalText = (t: TFunction, code: string, params: FeatureErrorParams = {}): string =>
    t(`${namespace}.errors.${code}`, params);
  return {
    async attempt<T>(task: () => Promise<T>): Promise<Outcome<T>> {
      try {
        return { ok: true, value: await task() };
      } catch (error) {
        if (error instanceof errorClass) {
          return { ok: false, code: error.code, params: error.params };
        }
        throw error;
      }
    },
    refusalText,
    refusalOf: (t, error) =>
      error instanceof errorClass ? refusalText(t, error.code, error.params) : undefined,
  };
}
