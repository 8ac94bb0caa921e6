/** Someone a message names: a configured person is mentioned (their phone rings), anyone else named. */
export interface PersonRef {
  name: string;
  telegramId?: number;
}

/**
 * A short notice about an incident posted in its chats, in plain values: the sender renders it (in
 * the chat's language, with HTML and mentions) when it goes out.
 */
export type Notice =
  | {
      /** An incident was not acknowledged within its response target. */
      key: 'breach-announce';
      id: string;
      severity: string;
      /** The target, formatted ("5m"). */
      target: string;
      title: string;
    }
  | {
      /** An acknowledged incident has had no status update for a while. */
      key: 'remind-update';
      id: string;
      who: PersonRef;
      every: string;
      since: string;
    };
